// Awareness in two browsers (ada with two tabs, dee with one): unread and mention badges that
// survive a reload and clear in every tab when read in one; the "new messages" line; @mention
// completion and highlighting; the typing line; presence dots; a notification for a mention
// while the room is not on screen, which opens the room when clicked; and the last open room
// reopening after a reload. Runs last (ada exists).
import { test, expect, type Page } from "@playwright/test";
import { ADMIN, AdminUsersPage, ChatPage, failOnConsoleErrors, signedIn, waitForHydration } from "./pages";

// Someone signed in nowhere else (earlier specs leave ben's pages open), so that closing their
// one browser takes them offline.
const MEMBER = { name: "dee", password: "dee-password-1" };

const ROOM = "Awareness";
const ELSEWHERE = "Elsewhere";

/// Records notifications instead of showing them: what the page asked for, with a click.
const RECORD_NOTIFICATIONS = () => {
  const shown: { title: string; body: string; onclick: (() => void) | null }[] = [];
  (window as unknown as { __notes: typeof shown }).__notes = shown;
  const Real = window.Notification;
  class Recorded {
    title: string;
    body: string;
    onclick: (() => void) | null = null;
    static get permission() {
      return Real.permission;
    }
    static requestPermission() {
      return Real.requestPermission();
    }
    constructor(title: string, options?: { body?: string }) {
      this.title = title;
      this.body = options?.body ?? "";
      shown.push(this);
    }
    close() {}
  }
  (window as unknown as { Notification: unknown }).Notification = Recorded;
};

function notes(page: Page) {
  return page.evaluate(() =>
    (window as unknown as { __notes: { title: string; body: string }[] }).__notes.map((n) => ({
      title: n.title,
      body: n.body,
    })),
  );
}

function badge(page: Page, title: string) {
  return page.getByTestId("room").and(page.locator(`[data-title="${title}"]`));
}

async function createRoom(page: Page, title: string) {
  await page.getByTestId("new-room").click();
  await page.getByTestId("new-room-title").fill(title);
  await page.getByTestId("create-room").click();
  await expect(page.getByTestId("room-title")).toHaveText(title);
}

test("unread, mentions, presence, typing, notifications and the last room", async ({ browser }) => {
  test.setTimeout(120_000);
  const adaPage = await signedIn(browser, ADMIN);
  await new AdminUsersPage(adaPage).goto();
  await new AdminUsersPage(adaPage).createUser(MEMBER.name, MEMBER.password);
  const adaContext = adaPage.context();
  await adaContext.grantPermissions(["notifications"]);
  await adaContext.addInitScript(RECORD_NOTIFICATIONS);
  const adaTwo = await adaContext.newPage();
  const deePage = await signedIn(browser, MEMBER);
  const checks = [adaPage, adaTwo, deePage].map(failOnConsoleErrors);
  const [ada, ada2, dee] = [adaPage, adaTwo, deePage].map((page) => new ChatPage(page));
  for (const chat of [ada, ada2, dee]) await chat.goto();

  // Ada makes two rooms; dee joins the first. Ada's tabs look at the other one.
  await createRoom(adaPage, ROOM);
  await createRoom(adaPage, ELSEWHERE);
  await dee.open(ROOM);
  await ada2.open(ELSEWHERE);
  await expect(adaPage.getByTestId("room-title")).toHaveText(ELSEWHERE);

  // Presence: ada sees dee online in the room's member list.
  await ada.open(ROOM);
  await adaPage.getByTestId("members-button").click();
  const deeDot = adaPage.getByTestId("member").and(adaPage.locator(`[data-name="${MEMBER.name}"]`))
    .getByTestId("presence");
  await expect(deeDot).toHaveAttribute("data-online", "true");
  await adaPage.screenshot({ path: "test-results/presence.png" });
  await adaPage.getByTestId("members-button").click();

  // Typing: dee's typing shows under the room for ada, and clears when she sends.
  await deePage.getByTestId("composer").pressSequentially("hello ", { delay: 20 });
  await expect(adaPage.getByTestId("typing")).toHaveText(`${MEMBER.name} is typing…`);
  await deePage.getByTestId("composer").press("Enter");
  await expect(adaPage.getByTestId("typing")).toHaveText("");
  await expect(ada.messages().last()).toContainText("hello");
  await expect(deePage.getByTestId("typing")).toHaveText("");

  // Completion: dee types "@ad", picks ada with the keyboard, and sends a mention.
  await ada.open(ELSEWHERE);
  const composer = deePage.getByTestId("composer");
  await composer.pressSequentially("look @ad");
  await expect(deePage.getByTestId("completion-option")).toHaveText([`@${ADMIN.name}`]);
  await deePage.screenshot({ path: "test-results/completion.png" });
  await composer.press("Enter");
  await expect(composer).toHaveValue(`look @${ADMIN.name} `);
  await composer.pressSequentially("here");
  await composer.press("Enter");
  await expect(dee.messages().last().getByTestId("mention")).toHaveText(`@${ADMIN.name}`);
  await dee.say("and one more");

  // "hello" was read on screen; both of ada's tabs count the 2 since, 1 mentioning her, and
  // the tab title says so.
  for (const page of [adaPage, adaTwo]) {
    await expect(badge(page, ROOM).getByTestId("unread")).toHaveText("2");
    await expect(badge(page, ROOM).getByTestId("mentions")).toHaveText("@1");
    await expect(page).toHaveTitle(/^\(\d+, @1\) Whisper$/);
  }
  await adaPage.screenshot({ path: "test-results/unread-badges.png" });

  // A notification came for the mention (the room was not on screen).
  const shown = await notes(adaPage);
  expect(shown.some((note) => note.title === ROOM && note.body.includes(`@${ADMIN.name} here`))).toBe(true);

  // The counts survive a reload.
  await adaTwo.reload();
  await waitForHydration(adaTwo);
  await expect(badge(adaTwo, ROOM).getByTestId("unread")).toHaveText("2");
  await expect(badge(adaTwo, ROOM).getByTestId("mentions")).toHaveText("@1");

  // Clicking the notification opens the room in that tab: the new-messages line marks the
  // first unread, the mention of her stands out, and both tabs' badges clear.
  await adaPage.evaluate(() =>
    (window as unknown as { __notes: { onclick: (() => void) | null }[] }).__notes.at(-1)?.onclick?.(),
  );
  await expect(adaPage.getByTestId("room-title")).toHaveText(ROOM);
  await expect(adaPage.getByTestId("new-line")).toBeVisible();
  await expect(adaPage.locator(".mention.me")).toHaveText(`@${ADMIN.name}`);
  await adaPage.screenshot({ path: "test-results/new-line.png" });
  for (const page of [adaPage, adaTwo]) {
    await expect(badge(page, ROOM).getByTestId("unread")).toHaveCount(0);
  }
  await adaPage.getByTestId("jump-unread").click();
  await expect(adaPage.getByTestId("new-line")).toBeInViewport();

  // The last room reopens after a reload (ada's last open room is now Awareness).
  await adaPage.reload();
  await waitForHydration(adaPage);
  await expect(adaPage.getByTestId("room-title")).toHaveText(ROOM);
  await expect(adaPage.getByTestId("new-line")).toHaveCount(0);

  // Presence: dee closes her browser; ada sees her go offline.
  await adaPage.getByTestId("members-button").click();
  await expect(deeDot).toHaveAttribute("data-online", "true");
  await deePage.context().close();
  await expect(deeDot).toHaveAttribute("data-online", "false");

  // The phone layout: the member sheet with its dots, then the room header with its
  // notification control.
  await adaPage.setViewportSize({ width: 390, height: 760 });
  await adaPage.screenshot({ path: "test-results/awareness-phone-members.png" });
  await adaPage.keyboard.press("Escape");
  await expect(adaPage.getByTestId("members-panel")).toHaveCount(0);
  await adaPage.screenshot({ path: "test-results/awareness-phone.png" });

  for (const check of checks.slice(0, 2)) check();
  await adaContext.close();
});
