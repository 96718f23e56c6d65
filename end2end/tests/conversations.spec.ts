// Conversations in three browsers: a closed room only its members see, with a member added
// and removed live; a direct message started from a name and found again from the other side;
// a third person who never sees either; the admin area without direct conversations; the
// sidebar as a drawer on a phone. Runs after chat.spec.ts (ada and ben exist).
import { test, expect, type Page } from "@playwright/test";
import { ADMIN, MEMBER, AdminUsersPage, AdminRoomsPage, ChatPage, failOnConsoleErrors, signedIn } from "./pages";

const THIRD = { name: "cy", password: "cy-password-1" };

/// Picks `name` in the open panel's user picker.
async function pick(page: Page, name: string) {
  await page.getByTestId("user-search").fill(name);
  await page.getByTestId("user-result").and(page.locator(`[data-name="${name}"]`)).click();
}

test("closed rooms and direct messages stay among their people, live", async ({ browser }) => {
  // Three sign-ins and a new account hash passwords (slow in a debug build).
  test.setTimeout(90_000);
  const adaPage = await signedIn(browser, ADMIN);
  await new AdminUsersPage(adaPage).goto();
  await new AdminUsersPage(adaPage).createUser(THIRD.name, THIRD.password);
  const benPage = await signedIn(browser, MEMBER);
  const cyPage = await signedIn(browser, THIRD);
  const checks = [adaPage, benPage, cyPage].map(failOnConsoleErrors);
  const [ada, ben, cy] = [adaPage, benPage, cyPage].map((page) => new ChatPage(page));
  for (const chat of [ada, ben, cy]) await chat.goto();
  await expect(cyPage.getByTestId("no-direct")).toContainText("No direct messages yet");

  // Ben creates a closed room with Ada; it opens for him and appears for her, never for Cy.
  await benPage.getByTestId("new-room").click();
  await benPage.getByTestId("new-room-title").fill("Secret plans");
  await benPage.getByTestId("kind-closed").check();
  await pick(benPage, ADMIN.name);
  await benPage.screenshot({ path: "test-results/new-room.png" });
  await benPage.getByTestId("create-room").click();
  await expect(benPage.getByTestId("room-title")).toHaveText("Secret plans");
  await expect(benPage.getByTestId("room-kind")).toHaveText("closed");
  await expect(ada.room("Secret plans")).toBeVisible();
  await ben.say("Nobody else can read this");
  await ada.open("Secret plans");
  await expect(ada.messages().last()).toContainText("Nobody else can read this");
  await expect(cy.room("Secret plans")).toHaveCount(0);

  // Ben adds Cy from the member panel: the room appears for her at once, with its messages.
  await benPage.getByTestId("members-button").click();
  await expect(benPage.getByTestId("member")).toHaveCount(2);
  await pick(benPage, THIRD.name);
  await benPage.getByTestId("add-members").click();
  await expect(benPage.getByTestId("member")).toHaveCount(3);
  await benPage.screenshot({ path: "test-results/members-panel.png" });
  await cy.open("Secret plans");
  await expect(cy.messages().last()).toContainText("Nobody else can read this");

  // ...and removes her, after confirming: it disappears from her page at once.
  benPage.once("dialog", (dialog) => dialog.accept());
  await benPage.getByTestId("member").and(benPage.locator(`[data-name="${THIRD.name}"]`))
    .getByTestId("remove-member").click();
  await expect(cy.alert()).toContainText("You were removed from Secret plans");
  await expect(cy.room("Secret plans")).toHaveCount(0);
  await expect(benPage.getByTestId("member")).toHaveCount(2);

  // Ada messages Ben from his name in the member list; the conversation is named after him.
  await adaPage.getByTestId("members-button").click();
  await adaPage.getByTestId("member").and(adaPage.locator(`[data-name="${MEMBER.name}"]`))
    .getByTestId("message-member").click();
  await expect(adaPage.getByTestId("room-title")).toHaveText(MEMBER.name);
  await expect(adaPage.getByTestId("room-kind")).toHaveText("direct");
  await ada.say("psst, ben");
  // Ben starts "a new message" to Ada and lands in the same conversation.
  await expect(benPage.getByTestId("direct").and(benPage.locator(`[data-title="${ADMIN.name}"]`))).toBeVisible();
  await benPage.getByTestId("new-message").click();
  await pick(benPage, ADMIN.name);
  await benPage.getByTestId("start-direct").click();
  await expect(benPage.getByTestId("room-title")).toHaveText(ADMIN.name);
  await expect(ben.messages().last()).toContainText("psst, ben");
  await ben.say("hi ada");
  await expect(ada.messages().last()).toContainText("hi ada");
  await benPage.screenshot({ path: "test-results/direct.png" });
  // The announcer reads out the new message, not the history loaded with the room.
  await expect(adaPage.getByTestId("announcer")).toHaveText(`${MEMBER.name}: hi ada`);

  // Cy sees neither conversation.
  await expect(cyPage.getByTestId("direct")).toHaveCount(0);
  await expect(cyPage.getByTestId("no-direct")).toBeVisible();

  // The admin area lists the closed room but no direct conversation.
  const rooms = new AdminRoomsPage(adaPage);
  await rooms.goto();
  await expect(rooms.row("Secret plans")).toContainText("members only");
  await expect(adaPage.locator("table.users")).not.toContainText("direct");
  await expect(adaPage.getByTestId("room-")).toHaveCount(0);
  await adaPage.setViewportSize({ width: 390, height: 844 });
  await adaPage.screenshot({ path: "test-results/admin-rooms-phone.png", fullPage: true });

  for (const check of checks) check();
});

test("on a phone the sidebar is a drawer, and runs of messages show their author once", async ({
  browser,
}) => {
  const page = await signedIn(browser, MEMBER, { reducedMotion: "reduce" });
  await page.setViewportSize({ width: 390, height: 844 });
  const chat = new ChatPage(page);
  await chat.goto();
  const sidebar = page.locator("#sidebar");
  await expect(sidebar).toBeHidden();
  await page.getByTestId("menu").click();
  await expect(sidebar).toBeVisible();
  await chat.room("Secret plans").click();
  await expect(sidebar).toBeHidden();
  await expect(page.getByTestId("room-title")).toHaveText("Secret plans");
  await chat.say("first of a run");
  await chat.say("second of a run");
  await expect(chat.messages().last()).toHaveClass(/continues/);
  // The name is out of sight but still there for screen readers.
  const author = await chat.messages().last().locator(".author").boundingBox();
  expect(author?.width ?? 0).toBeLessThanOrEqual(1);
  await expect(chat.messages().last().locator(".author")).toHaveText(MEMBER.name);
  await page.screenshot({ path: "test-results/phone-room.png" });
  await page.getByTestId("members-button").click();
  await page.screenshot({ path: "test-results/phone-members.png" });
  await page.keyboard.press("Escape");
  await page.getByTestId("menu").click();
  await page.screenshot({ path: "test-results/phone-drawer.png" });
  // The drawer closes with a tap beside it...
  await page.mouse.click(380, 400);
  await expect(sidebar).toBeHidden();
  // ...and works from the keyboard: it takes the focus, and Escape gives it back.
  await page.getByTestId("menu").focus();
  await page.keyboard.press("Enter");
  await expect(sidebar).toBeVisible();
  await expect(page.locator("#sidebar button").first()).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(sidebar).toBeHidden();
  await expect(page.getByTestId("menu")).toBeFocused();
});
