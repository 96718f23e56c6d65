// Two builds' cold loads of the chat page, alternated load by load, so that the machine's
// drift during a series falls on both alike. Prints each build's time to interactive.
//
//   node end2end/bench/cold-loads-ab.mjs http://127.0.0.1:3300 http://127.0.0.1:3301 [rounds]
//
// Start each build on its own port over its own fresh database, and run `first-visit.mjs`
// against each first (it sets them up). A round loads each once, in turns: A then B, then B
// then A.
import { interactive, launch, signIn, watchInteractive } from "./cold.mjs";

const bases = process.argv.slice(2, 4);
const rounds = Number(process.argv[4] ?? 30);
if (bases.length !== 2) {
  console.error("usage: cold-loads-ab.mjs URL_A URL_B [rounds]");
  process.exit(2);
}

const browser = await launch();
const cookies = [await signIn(browser, bases[0]), await signIn(browser, bases[1])];
const times = [[], []];
for (let round = 0; round < rounds; round++) {
  for (const build of round % 2 ? [1, 0] : [0, 1]) {
    const cold = await browser.newContext({ baseURL: bases[build] });
    await watchInteractive(cold);
    await cold.addCookies(cookies[build]);
    const page = await cold.newPage();
    await page.goto("/");
    times[build].push(await interactive(page));
    await cold.close();
  }
}
for (const build of [0, 1]) {
  const sorted = times[build].slice().sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const median = sorted[sorted.length >> 1];
  console.log(
    `${"AB"[build]} ${bases[build]}: interactive median ${median.toFixed(0)} ms, ` +
      `mean ${mean.toFixed(0)} ms, ${sorted[0].toFixed(0)}–${sorted.at(-1).toFixed(0)} ms ` +
      `(${sorted.length} loads)`,
  );
}
await browser.close();
