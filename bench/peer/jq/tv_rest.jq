# Tradevest's page, in the shape tv_graphql.jq makes of its GraphQL twin (bench.sh PHASE=prepare)
# timestamps compared to the millisecond (the REST routes print milliseconds)
def ms: if type == "string" then .[0:19] + "." + ((((capture("\\.(?<f>[0-9]+)") // {f: ""}).f) + "000")[0:3]) + .[(index("Z") // length):] else . end;
[.data[] | {id: .customerId, customerStatus, entityId, entityType, customerType, labels: (.labels // []),
  createdOn: (.createdOn | ms), modifiedOn: (.modifiedOn | ms)}]
