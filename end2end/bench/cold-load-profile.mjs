// Where a cold load of the chat page spends its time: Chromium's trace of one load, from
// navigation start until the page is hydrated with its rooms listed, summed by what the page's
// main thread was doing: each trace event's self time. Prints figures; asserts nothing. Tracing
// every category slows the load a lot, so its total is longer than `first-visit.mjs` measures;
// the split is what this is for.
//
//   node end2end/bench/cold-load-profile.mjs http://127.0.0.1:3300 [runs]
//
// Signs in as `ada` (run `first-visit.mjs` against the server first: it sets the server up).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { interactive, launch, signIn, watchInteractive } from "./cold.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:3300";
const runs = Number(process.argv[3] ?? 3);

// Trace events that are V8 compiling the WASM (as it streams in, then each function on its
// first call), summed into one figure beside the top names. `FlushInstructionCache` follows
// every code compile, JavaScript's too, so it is listed on its own.
const WASM_COMPILE = ["v8.wasm.compileConsume", "wasm.OnBytesReceived", "wasm.CompileLazy"];

const browser = await launch();
const cookies = await signIn(browser, base);

/// The main thread's self time by trace event name (an event's time less its children's),
/// between navigation start and the mark, in milliseconds.
function selfTimes(trace) {
  const events = trace.traceEvents;
  const mark = events.filter((e) => e.name === "interactive").at(-1);
  const pid = mark.pid;
  const start = Math.max(
    ...events.filter((e) => e.name === "navigationStart" && e.pid === pid && e.ts < mark.ts).map((e) => e.ts),
  );
  const main = events.find(
    (e) => e.ph === "M" && e.name === "thread_name" && e.pid === pid && e.args.name === "CrRendererMain",
  ).tid;
  const spans = events
    .filter((e) => e.pid === pid && e.tid === main && e.ph === "X" && e.ts >= start && e.ts <= mark.ts)
    .sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const times = {};
  const open = [];
  for (const span of spans) {
    while (open.length && open.at(-1).ts + (open.at(-1).dur ?? 0) <= span.ts) open.pop();
    if (open.length) times[open.at(-1).name] -= (span.dur ?? 0) / 1000;
    times[span.name] = (times[span.name] ?? 0) + (span.dur ?? 0) / 1000;
    open.push(span);
  }
  return { total: (mark.ts - start) / 1000, times };
}

const sums = {};
for (let run = 0; run < runs; run++) {
  const cold = await browser.newContext({ baseURL: base });
  await cold.addCookies(cookies);
  await watchInteractive(cold);
  const page = await cold.newPage();
  const file = path.join(os.tmpdir(), `whisper-cold-load-${process.pid}-${run}.json`);
  await browser.startTracing(page, {
    path: file,
    categories: ["*", "disabled-by-default-devtools.timeline", "disabled-by-default-v8.compile"],
  });
  await page.goto("/");
  await interactive(page);
  await browser.stopTracing();
  await cold.close();
  const { total, times } = selfTimes(JSON.parse(fs.readFileSync(file, "utf8")));
  fs.rmSync(file);
  const wasm = WASM_COMPILE.reduce((sum, name) => sum + (times[name] ?? 0), 0);
  const busy = Object.values(times).reduce((a, b) => a + b, 0);
  console.log(
    `run ${run + 1}: interactive at ${total.toFixed(0)} ms (traced); main thread busy ` +
      `${busy.toFixed(0)} ms, of which compiling the WASM ${wasm.toFixed(0)} ms`,
  );
  for (const [name, ms] of Object.entries(times)) sums[name] = (sums[name] ?? 0) + ms;
  sums["(all of compiling the WASM)"] = (sums["(all of compiling the WASM)"] ?? 0) + wasm;
  sums["(busy)"] = (sums["(busy)"] ?? 0) + busy;
  sums["(until interactive)"] = (sums["(until interactive)"] ?? 0) + total;
}
console.log(`means over ${runs} runs, the main thread's self time by trace event (top 20):`);
for (const [name, ms] of Object.entries(sums).sort((a, b) => b[1] - a[1]).slice(0, 23)) {
  console.log(`  ${(ms / runs).toFixed(1).padStart(6)} ms  ${name}`);
}
await browser.close();
