// Renders Graphviz DOT to SVG with @viz-js/viz (Graphviz compiled to WebAssembly, pinned in
// package.json): no system Graphviz, and the same bytes on every machine (its font metrics are built in).
// stdin: a JSON object {name: dot source}; stdout: a JSON object {name: svg text}.
import { instance } from "@viz-js/viz";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const sources = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const viz = await instance();
const out = {};
for (const [name, dot] of Object.entries(sources)) {
  const result = viz.render(dot, { format: "svg" });
  if (result.status !== "success") {
    const messages = result.errors.map((e) => `${e.level}: ${e.message}`).join("\n");
    process.stderr.write(`${name}: Graphviz failed\n${messages}\n`);
    process.exit(1);
  }
  out[name] = result.output;
}
process.stdout.write(JSON.stringify(out));
