// What the first-visit benches share: a browser like the suite's, a signed-in `ada`, and the
// moment a page is interactive (hydrated, with its rooms listed).
import { chromium } from "@playwright/test";

export const ADMIN = { name: "ada", password: "ada-password-1" };

/// Debian's Chromium, as the suite runs it.
export function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
}

/// Signs `ada` in on `base` through the log-in form; the session's cookies.
export async function signIn(browser, base) {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  // The log-in page is the server's alone (no WASM): its form works once it has loaded.
  await page.goto("/login");
  await page.getByLabel("Username").fill(ADMIN.name);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/`);
  const cookies = await context.cookies();
  await context.close();
  return cookies;
}

/// Makes every page of `context` note when it is first hydrated with its rooms listed: a
/// `performance.mark("interactive")`, at milliseconds from navigation start.
export async function watchInteractive(context) {
  await context.addInitScript(() => {
    const check = () => {
      if (
        !performance.getEntriesByName("interactive").length &&
        document.body?.hasAttribute("data-hydrated") &&
        document.querySelector('[data-testid="room"]')
      ) {
        performance.mark("interactive");
      }
    };
    new MutationObserver(check).observe(document, {
      subtree: true,
      childList: true,
      attributes: true,
    });
  });
}

/// Milliseconds from navigation start until the page was interactive.
export async function interactive(page) {
  const handle = await page.waitForFunction(
    () => performance.getEntriesByName("interactive")[0]?.startTime,
    undefined,
    { timeout: 30_000 },
  );
  return handle.jsonValue();
}
