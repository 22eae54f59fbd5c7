# GraphQL g_bsai (queries/custgraph/g_bsai.graphql) in bankingservice.ai's field names (rest/bsai.go)
# timestamps compared to the millisecond (the REST routes print milliseconds)
def ms: if type == "string" then .[0:19] + "." + ((((capture("\\.(?<f>[0-9]+)") // {f: ""}).f) + "000")[0:3]) + .[(index("Z") // length):] else . end;
.data.customers | {count: .totalCount, customers: [.edges[].node | {
  id, company: (.company // ""), first_name: (.firstName // ""), last_name: (.lastName // ""),
  email: (.email // ""), phone: (.mobilePhoneNumber // ""), created: (.createdAt | ms),
  address: (.addresses.edges[0].node as $a | if $a == null then null else {
    premise: $a.premise, sub_premise: ($a.subPremise // ""), building: ($a.building // ""),
    postal_code: ($a.postcode // ""), thoroughfare: ($a.thoroughfare // ""), locality: ($a.city // ""),
    state: ($a.state // ""), country: ($a.countryCode // "")} end)}]}
