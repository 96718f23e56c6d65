// First visit in a real browser, on a cold cache: what the log-in page and the chat page
// transfer, and how long the chat page takes from navigation start until it is hydrated with
// its rooms listed. Prints figures; asserts nothing (timings go to BENCHMARKS.md, not tests).
//
//   node end2end/bench/first-visit.mjs http://127.0.0.1:3300 [runs]
//
// Against a fresh server: the script sets up the admin (`ada`) and three rooms, or signs in as
// `ada` if set-up was done by an earlier run.
import { ADMIN, interactive, launch, watchInteractive } from "./cold.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:3300";
const runs = Number(process.argv[3] ?? 5);

const browser = await launch();

/// Bytes this page's document and resources took over the network (0 for what came from the
/// cache), each with its name.
async function transferred(page) {
  return page.evaluate(() => {
    const entries = [
      ...performance.getEntriesByType("navigation"),
      ...performance.getEntriesByType("resource"),
    ];
    return entries.map((entry) => ({
      name: new URL(entry.name).pathname,
      bytes: entry.transferSize,
      body: entry.decodedBodySize,
    }));
  });
}

function total(entries) {
  return entries.reduce((sum, entry) => sum + entry.bytes, 0);
}

// Set-up (or sign-in), and rooms to list.
const setupContext = await browser.newContext({ baseURL: base });
const setupPage = await setupContext.newPage();
// Once an admin exists, `/setup` answers 404.
const setup = await setupPage.goto("/setup");
if (setup?.status() === 200) {
  await setupPage.getByLabel("Admin username").fill(ADMIN.name);
  await setupPage.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await setupPage.getByLabel("Repeat password").fill(ADMIN.password);
  await setupPage.getByRole("button", { name: "Create admin and sign in" }).click();
  await setupPage.waitForURL(`${base}/`);
  for (const title of ["general", "random", "deploys"]) {
    await setupPage.request.post("/admin/rooms", { form: { title } });
  }
}
await setupContext.close();

// The log-in page, then the chat page, in one cold browser.
const first = await browser.newContext({ baseURL: base });
await watchInteractive(first);
const page = await first.newPage();
// The log-in page is the server's alone: no WASM; the bundle comes with the chat page.
await page.goto("/login", { waitUntil: "load" });
await page.waitForFunction(() =>
  performance.getEntriesByType("resource").some((entry) => entry.name.endsWith("/whisper.wasm")),
);
const login = await transferred(page);
await page.getByLabel("Username").fill(ADMIN.name);
await page.getByLabel("Password").fill(ADMIN.password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL(`${base}/`);
const afterLogin = await interactive(page);
const chatAfterLogin = await transferred(page);
console.log("log-in page, cold:");
for (const entry of login) console.log(`  ${entry.name}: ${entry.bytes} B (${entry.body} B decoded)`);
console.log(`  total ${total(login)} B`);
console.log("chat page after log-in:");
for (const entry of chatAfterLogin) console.log(`  ${entry.name}: ${entry.bytes} B`);
console.log(`  total ${total(chatAfterLogin)} B, interactive at ${afterLogin.toFixed(0)} ms`);
console.log(`log-in page and chat page together: ${total(login) + total(chatAfterLogin)} B`);
const cookies = await first.cookies();
await first.close();

// The chat page alone on a cold cache (signed in, nothing cached), `runs` times.
const times = [];
let bytes = 0;
for (let run = 0; run < runs; run++) {
  const cold = await browser.newContext({ baseURL: base });
  await watchInteractive(cold);
  await cold.addCookies(cookies);
  const chat = await cold.newPage();
  await chat.goto("/");
  times.push(await interactive(chat));
  const entries = await transferred(chat);
  bytes = total(entries);
  if (run === 0) {
    console.log("chat page, cold:");
    for (const entry of entries) console.log(`  ${entry.name}: ${entry.bytes} B (${entry.body} B decoded)`);
  }
  await cold.close();
}
times.sort((a, b) => a - b);
console.log(
  `chat page, cold: ${bytes} B; interactive in ${times.map((t) => t.toFixed(0)).join(", ")} ms ` +
    `(median ${times[Math.floor(times.length / 2)].toFixed(0)} ms)`,
);
await browser.close();
