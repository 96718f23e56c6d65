// Search and permalinks in the browser: `/` focuses the search field; a word finds a message
// 330 messages back, highlighted in the results; opening it shows the room around it,
// highlighted; scrolling down loads the newer pages up to the live end, where a new message
// arrives with nothing repeated or missing; the message's link opens it in another tab; and a
// user who may not read the room sees "not available". Runs after accounts.spec.ts (ada, ben).
import { test, expect, type Page } from "@playwright/test";
import { ADMIN, MEMBER, AdminRoomsPage, ChatPage, failOnConsoleErrors, signedIn, waitForHydration } from "./pages";

const ROOM = "Archive";
const FILLERS = 330;

/// Posts the needle and then `FILLERS` messages into the room, over a socket of its own (as
/// fast as the server takes them), and waits for the page to show the last.
async function postHistory(chat: ChatPage, roomId: number) {
  await chat.page.evaluate(
    async ({ roomId, count }) => {
      const socket = new WebSocket(`ws://${location.host}/ws`);
      await new Promise((resolve) => socket.addEventListener("open", resolve));
      const send = (command: object) => socket.send(JSON.stringify(command));
      const stamp = Date.now();
      send({ type: "send", request_id: 1, room_id: roomId, body: "the needle in the haystack", nonce: `n-${stamp}` });
      for (let i = 1; i <= count; i++) {
        send({ type: "send", request_id: i + 1, room_id: roomId, body: `filler ${i}`, nonce: `f-${stamp}-${i}` });
      }
      // Closing only after the last is stored: its own copy comes back.
      await new Promise<void>((resolve) =>
        socket.addEventListener("message", (event) => {
          if (String(event.data).includes(`"filler ${count}"`)) resolve();
        }),
      );
      socket.close();
    },
    { roomId, count: FILLERS },
  );
  await expect(chat.messages().last()).toContainText(`filler ${FILLERS}`);
}

/// The message bodies the open room shows, top to bottom.
async function bodies(page: Page) {
  return page.getByTestId("timeline").locator('[data-testid="message"] .body').allInnerTexts();
}

test("a search finds an old message, which opens in place and scrolls to the live end", async ({ browser }) => {
  test.setTimeout(120_000);
  const adaPage = await signedIn(browser, ADMIN);
  const rooms = new AdminRoomsPage(adaPage);
  await rooms.goto();
  await rooms.createRoom(ROOM);
  const noErrors = failOnConsoleErrors(adaPage);
  const ada = new ChatPage(adaPage);
  await ada.goto();
  await ada.open(ROOM);
  const roomId = Number(await ada.room(ROOM).getAttribute("data-room-id"));
  await postHistory(ada, roomId);
  // A fresh page holds only the room's latest messages.
  await ada.goto();
  await expect(ada.messages()).toHaveCount(50);

  // "/" focuses the search field; Enter searches; the match is marked.
  await adaPage.getByTestId("timeline").click();
  await adaPage.keyboard.press("/");
  const field = adaPage.getByTestId("search-field");
  await expect(field).toBeFocused();
  await field.fill("zzqqxx");
  await field.press("Enter");
  await expect(adaPage.getByTestId("search-empty")).toHaveText("No messages match.");
  await adaPage.screenshot({ path: "test-results/search-empty.png" });
  // Choosing a room closes the results; so does Escape, which gives the keyboard back to the
  // room's composer.
  await ada.room(ROOM).click();
  await expect(adaPage.getByTestId("search-results")).toHaveCount(0);
  await expect(adaPage.getByTestId("room-title")).toHaveText(ROOM);
  await field.press("Enter");
  await expect(adaPage.getByTestId("search-empty")).toBeVisible();
  await field.press("Escape");
  await expect(adaPage.getByTestId("search-results")).toHaveCount(0);
  await expect(adaPage.getByTestId("composer")).toBeFocused();

  await adaPage.keyboard.press("Control+k");
  await expect(field).toBeFocused();
  await field.fill("HAYSTACK");
  await field.press("Enter");
  const hit = adaPage.getByTestId("hit");
  await expect(hit).toHaveCount(1);
  await expect(hit).toContainText(ROOM);
  await expect(hit).toContainText(ADMIN.name);
  await expect(hit.locator("mark")).toHaveText("haystack");
  await adaPage.screenshot({ path: "test-results/search-results.png" });

  // Opening it shows the room around it, the message highlighted and in view.
  await hit.getByRole("link").click();
  await expect(adaPage.getByTestId("search-results")).toHaveCount(0);
  const needle = adaPage.locator(".message.highlighted");
  await expect(needle).toHaveCount(1);
  await expect(needle).toContainText("the needle in the haystack");
  await expect(needle).toBeInViewport();
  await expect(adaPage.getByTestId("load-newer")).toBeVisible();
  await adaPage.screenshot({ path: "test-results/search-opened.png" });

  // Scrolling down loads the newer pages until the room's latest messages join them.
  const timeline = adaPage.getByTestId("timeline");
  await expect
    .poll(
      async () => {
        await timeline.evaluate((list) => {
          list.scrollTop = list.scrollHeight;
          list.dispatchEvent(new Event("scroll"));
        });
        return adaPage.getByTestId("load-newer").count();
      },
      { timeout: 30_000 },
    )
    .toBe(0);

  // A new message arrives at the end: nothing repeated, nothing missing.
  const benPage = await signedIn(browser, MEMBER);
  const ben = new ChatPage(benPage);
  await ben.goto();
  await ben.open(ROOM);
  await ben.say("live after the jump");
  await expect(ada.messages().last()).toContainText("live after the jump");
  const shown = await bodies(adaPage);
  const fillers = shown.filter((body) => body.startsWith("filler "));
  const first = Number(fillers[0].split(" ")[1]);
  const expected = Array.from({ length: FILLERS - first + 1 }, (_, i) => `filler ${first + i}`);
  expect(fillers).toEqual(expected);
  expect(shown[0]).toBe("the needle in the haystack");
  expect(shown.at(-1)).toBe("live after the jump");

  // The message's link opens it in another tab.
  const link = needle.getByTestId("copy-link");
  const href = await link.getAttribute("href");
  expect(href).toMatch(/^\/r\/\d+\/1$/);
  const adaTwo = await adaPage.context().newPage();
  await adaTwo.goto(href!);
  await waitForHydration(adaTwo);
  await expect(adaTwo.locator(".message.highlighted")).toContainText("the needle in the haystack");
  await expect(adaTwo.getByTestId("room-title")).toHaveText(ROOM);

  // Someone who may not read the room (ben, after leaving it) is told it is not available.
  await benPage.getByTestId("leave").click();
  await expect(ben.room(ROOM)).toBeVisible();
  await benPage.goto(href!);
  await waitForHydration(benPage);
  await expect(benPage.getByTestId("message-unavailable")).toContainText("not available");
  await benPage.screenshot({ path: "test-results/permalink-unavailable.png" });
  noErrors();
});

test("search works on a phone-sized screen", async ({ browser }) => {
  const page = await signedIn(browser, ADMIN, { viewport: { width: 390, height: 800 } });
  const chat = new ChatPage(page);
  await chat.goto();
  await page.getByTestId("search-field").fill("needle");
  await page.getByTestId("search-field").press("Enter");
  await expect(page.getByTestId("hit")).toHaveCount(1);
  await page.screenshot({ path: "test-results/search-phone.png" });
  await page.getByTestId("hit").getByRole("link").click();
  await expect(page.locator(".message.highlighted")).toBeInViewport();
});
