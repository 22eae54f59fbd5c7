# GraphQL g_tv (queries/custgraph/g_tv.graphql: the last 20) newest first, in Tradevest's field names (rest/tradevest.go)
# timestamps compared to the millisecond (the REST routes print milliseconds)
def ms: if type == "string" then .[0:19] + "." + ((((capture("\\.(?<f>[0-9]+)") // {f: ""}).f) + "000")[0:3]) + .[(index("Z") // length):] else . end;
[.data.customers.edges[].node | {id, customerStatus, entityId: .entityID, entityType, customerType, labels: (.labels // []),
  createdOn: (.createdAt | ms), modifiedOn: (.updatedAt | ms)}] | reverse
