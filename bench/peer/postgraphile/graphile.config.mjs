// PostGraphile 5 config of the peer benchmark (bench/peer/run.sh): the Amber preset with
// simplify-inflection and connection-filter, pointed at custgraph's own tables (the whole `public`
// schema custgraph migrates). run.sh installs package.json + package-lock.json with `npm ci` into a
// cache folder outside the repository (Node >= 22) and copies this file beside node_modules.
//
// One addition: custgraph stores `customers.labels` as jsonb (ent field.Strings), and
// PostGraphile 5 gives jsonb attributes no `filterBy` behaviour by default (jsonb's codec has no
// natural equality), so the label filter of Q4a would not exist. A smart tag turns it on:
// `filter: {labels: {contains: ["vip"]}}` -> `labels @> '["vip"]'::jsonb` (GIN index).
// PostGraphile runs with NO authentication (it sees every bank's customers, like custgraph's
// unbound demo administrator).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { jsonPgSmartTags } from "postgraphile/utils";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const LabelsFilterable = jsonPgSmartTags({
  version: 1,
  config: { class: { customers: { attribute: { labels: { tags: { behavior: "+attribute:filterBy" } } } } } },
});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset, PostGraphileConnectionFilterPreset],
  plugins: [LabelsFilterable],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PG_POOL_MAX || 10) },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT || 5678),
    graphiql: false,
    watch: false,
    graphqlPath: "/graphql",
  },
  grafast: { explain: false },
  schema: {
    connectionFilterArrays: true,
    connectionFilterRelations: false,
    connectionFilterLogicalOperators: true,
  },
};

export default preset;
