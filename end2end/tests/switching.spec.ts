// Switching rooms while messages pour in: the room being closed may still have a redraw (an
// animation frame) pending when its view is disposed, and that redraw must not touch the
// closed room's state (it used to panic: "a reactive value that has already been disposed").
// Self-contained: makes its own users and rooms. Runs after accounts.spec.ts (the admin).
import { test, expect, type Page } from "@playwright/test";
import { ADMIN, AdminRoomsPage, AdminUsersPage, ChatPage, signedIn } from "./pages";

const SWITCHES = 40;

/// Collects uncaught exceptions and console errors (a Rust panic in the WASM shows as both).
function collectErrors(page: Page) {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

/// Types messages into `chat`'s open room as fast as the page takes them, until `done()`.
async function chatter(chat: ChatPage, prefix: string, done: () => boolean) {
  const composer = chat.page.getByTestId("composer");
  let sent = 0;
  while (!done()) {
    sent += 1;
    await composer.fill(`${prefix} ${sent}`);
    await composer.press("Enter");
  }
  return sent;
}

test("switching rooms fast while messages arrive raises no error", async ({ browser }) => {
  test.setTimeout(120_000);
  const unique = Date.now().toString(36);
  const reader = { name: `reader-${unique}`, password: "reader-password-1" };
  const writer = { name: `writer-${unique}`, password: "writer-password-1" };
  const [first, second] = [`Switch one ${unique}`, `Switch two ${unique}`];

  const adminPage = await signedIn(browser, ADMIN);
  const users = new AdminUsersPage(adminPage);
  await users.goto();
  await users.createUser(reader.name, reader.password);
  await users.createUser(writer.name, writer.password);
  const rooms = new AdminRoomsPage(adminPage);
  await rooms.goto();
  await rooms.createRoom(first);
  await rooms.createRoom(second);

  // The writer keeps one tab in each room.
  const writerOne = new ChatPage(await signedIn(browser, writer));
  await writerOne.goto();
  await writerOne.open(first);
  const writerTwo = new ChatPage(await writerOne.page.context().newPage());
  await writerTwo.goto();
  await writerTwo.open(second);

  const readerPage = await signedIn(browser, reader);
  const errors = collectErrors(readerPage);
  const chat = new ChatPage(readerPage);
  await chat.goto();
  await chat.open(first);
  await chat.open(second);

  let switching = true;
  const writing = Promise.all([
    chatter(writerOne, "one", () => !switching),
    chatter(writerTwo, "two", () => !switching),
  ]);
  try {
    for (let i = 0; i < SWITCHES; i++) {
      const title = i % 2 === 0 ? first : second;
      await chat.room(title).click();
      await expect(readerPage.getByTestId("room-title")).toHaveText(title);
      expect(errors, `errors after switch ${i + 1}`).toEqual([]);
    }
  } finally {
    switching = false;
  }
  const [sentOne, sentTwo] = await writing;
  expect(sentOne + sentTwo, "messages arrived while switching").toBeGreaterThan(SWITCHES / 2);

  // The page still works: each room shows its last message, once.
  for (const [title, prefix, sent] of [
    [first, "one", sentOne],
    [second, "two", sentTwo],
  ] as const) {
    await chat.open(title);
    const bodies = readerPage.getByTestId("timeline").locator(".message .body");
    await expect(bodies.filter({ hasText: new RegExp(`^${prefix} ${sent}$`) })).toHaveCount(1);
  }
  expect(errors).toEqual([]);
});
