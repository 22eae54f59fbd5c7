# bankingservice.ai's page, in the shape bsai_graphql.jq makes of its GraphQL twin (bench.sh PHASE=prepare)
# timestamps compared to the millisecond (the REST routes print milliseconds)
def ms: if type == "string" then .[0:19] + "." + ((((capture("\\.(?<f>[0-9]+)") // {f: ""}).f) + "000")[0:3]) + .[(index("Z") // length):] else . end;
{count, customers: [.data[] | {id, company, first_name, last_name, email, phone, created: (.created | ms), address}]}
