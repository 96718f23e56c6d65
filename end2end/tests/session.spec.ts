// A tab whose session ended elsewhere does not say "Reconnecting…" for ever: the server closes
// its socket (1008), and since a browser cannot see why a socket was refused, the page asks who
// is signed in and goes to the log-in page. Self-contained: makes its own user. Runs after
// accounts.spec.ts (the admin).
import { test, expect } from "@playwright/test";
import { ChatPage, newUser, signedIn } from "./pages";

test("a tab signed out from another tab goes to the log-in page", async ({ browser }) => {
  // Three or four browsers sign in: on a slow machine that alone took 30 s (CI, 2026-12-07).
  test.setTimeout(60_000);
  const user = await newUser(browser, "leaver");

  const chatTab = await signedIn(browser, user);
  const chat = new ChatPage(chatTab);
  await chat.goto();
  const otherTab = await chatTab.context().newPage();
  await otherTab.goto("/");
  await otherTab.getByRole("button", { name: "Log out", exact: true }).click();
  await expect(otherTab).toHaveURL(/\/login$/);

  // The server closes the sockets of the ended session at once (1008); the tab asks who is
  // signed in, finds nobody, and goes to the log-in page — no "Reconnecting…" for ever.
  await expect(chatTab).toHaveURL(/\/login$/);
  await expect(chatTab.getByTestId("login-form")).toBeVisible();
});

test("log out everywhere signs out the other device at once", async ({ browser }) => {
  // Three or four browsers sign in: on a slow machine that alone took 30 s (CI, 2026-12-07).
  test.setTimeout(60_000);
  const user = await newUser(browser, "roamer");

  // Two devices: two browser contexts, each with its own session.
  const laptop = await signedIn(browser, user);
  const chat = new ChatPage(laptop);
  await chat.goto();
  const phone = await signedIn(browser, user);
  await phone.goto("/");
  await phone.getByRole("button", { name: "Log out everywhere" }).click();
  await expect(phone).toHaveURL(/\/login$/);

  await expect(laptop).toHaveURL(/\/login$/);
  await expect(laptop.getByTestId("login-form")).toBeVisible();
});
