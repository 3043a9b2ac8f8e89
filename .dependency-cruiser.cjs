// `npm run check:cycles`: no import cycles (between modules or between
// folders), and no stage importing a stage above it. The stages, from the
// bottom: each may import only from its own stage and the ones before it.
const STAGES = [
  ["src/model\\.ts$", "src/errors\\.ts$", "src/log\\.ts$"],
  ["src/values/"],
  ["src/streams/"],
  ["src/formats/"],
  ["src/rules/", "src/register/"],
  ["src/config/"],
  ["src/request/", "src/source/"],
  ["src/catalog/", "src/query/", "src/write/", "src/uploads/", "src/auth/"],
  ["src/compiled/"],
  ["src/routes/"],
  ["src/index\\.ts$"],
];

const anyOf = (paths) => `^(?:${paths.join("|")})`;

module.exports = {
  forbidden: [
    { name: "no-circular", comment: "an import cycle between modules", severity: "error", from: {}, to: { circular: true } },
    { name: "no-circular-folders", comment: "an import cycle between folders", scope: "folder", severity: "error", from: {}, to: { circular: true } },
    ...STAGES.slice(0, -1).map((stage, i) => ({
      name: `stage-${i}-imports-upward`,
      comment: `${stage.join(", ")} must not import a later stage`,
      severity: "error",
      from: { path: anyOf(stage) },
      to: { path: anyOf(STAGES.slice(i + 1).flat()) },
    })),
    { name: "not-in-a-stage", comment: "every module of src/ belongs to a stage (add new folders to STAGES)", severity: "error", from: { path: "^src/", pathNot: anyOf(STAGES.flat()) }, to: {} },
  ],
  options: {
    // TypeScript 7 has no JS compiler API: swc parses the sources; type-only imports count.
    parser: "swc",
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
  },
};
