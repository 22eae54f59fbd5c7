// Prints the introspection query graphql-js (the pinned graphql package)
// generates: with every option on (`all`, what codegen and other tools can
// ask for) or with GraphiQL's options (`graphiql`: GraphiQL 4.1.2 calls the
// graphql 16.11.0 it bundles with inputValueDeprecation and
// schemaDescription off). graph/testdata/introspection/ holds the output;
// e2e/introspection_test.go checks that it is still what this prints.
import { getIntrospectionQuery } from 'graphql';

const options = {
  all: {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  },
  graphiql: { inputValueDeprecation: false, schemaDescription: false },
};

const which = process.argv[2];
if (!(which in options)) {
  console.error(`usage: node introspection-query.mjs ${Object.keys(options).join('|')}`);
  process.exit(2);
}
process.stdout.write(getIntrospectionQuery(options[which]));
