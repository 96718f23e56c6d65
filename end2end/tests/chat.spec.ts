// The Whisper walkthrough in two browsers: the admin makes rooms (one staff-only), a member
// joins a public room and chats with the admin live, is refused the staff room, leaves, and
// watches the room list change; HTML in a message shows as text.
// Runs after accounts.spec.ts, which creates the admin and the member.
import { test, expect } from "@playwright/test";
import { ADMIN, MEMBER, AdminRoomsPage, ChatPage, failOnConsoleErrors, signedIn } from "./pages";

test("two people chat live across rooms; staff-only holds; the room list updates live", async ({
  browser,
}) => {
  // The longest walkthrough (two sign-ins, a dozen live steps): 30 s was not enough on a slow
  // machine, where it failed at the rename after every step before it had passed.
  test.setTimeout(90_000);
  const adminPage = await signedIn(browser, ADMIN);
  const memberPage = await signedIn(browser, MEMBER);
  const noAdminErrors = failOnConsoleErrors(adminPage);
  const noMemberErrors = failOnConsoleErrors(memberPage);
  memberPage.on("dialog", () => {
    throw new Error("a message ran script");
  });

  // The member's list starts empty, and fills live as the admin creates rooms.
  const member = new ChatPage(memberPage);
  await member.goto();
  await expect(memberPage.getByTestId("no-rooms")).toBeVisible();

  const rooms = new AdminRoomsPage(adminPage);
  await rooms.goto();
  await rooms.createRoom("General");
  await rooms.createRoom("Random");
  await rooms.createRoom("Staff lounge", { staffOnly: true });
  await expect(member.room("General")).toBeVisible();
  await expect(member.room("Staff lounge")).toContainText("staff");

  // Both join General and talk.
  const admin = new ChatPage(adminPage);
  await admin.goto();
  await admin.open("General");
  await member.open("General");
  await expect(adminPage.getByTestId("member-notice").last()).toHaveText(`${MEMBER.name} joined`);
  await member.say("Hi admin!");
  await expect(admin.messages().last()).toContainText("Hi admin!");
  await expect(admin.messages().last()).not.toHaveClass(/own/);
  await expect(member.messages().last()).toHaveClass(/own/);
  await admin.say("Welcome aboard");
  await expect(member.messages().last()).toContainText("Welcome aboard");

  // Markup is shown as text, never run.
  const markup = "<img src=x onerror=alert(1)>";
  await member.say(markup);
  await expect(admin.messages().last().locator(".body")).toHaveText(markup);
  await expect(adminPage.locator(".timeline img")).toHaveCount(0);

  // Empty input sends nothing.
  const count = await admin.messages().count();
  await member.page.getByTestId("composer").fill("   ");
  await member.page.getByTestId("composer").press("Enter");
  await member.say("after the blank");
  await expect(admin.messages()).toHaveCount(count + 1);

  // Activity in a room that is not open is marked.
  await admin.open("Random");
  await member.open("Random");
  await member.open("General");
  await admin.say("over in Random");
  await expect(member.room("Random").getByTestId("unread")).toHaveText("1");
  await member.open("Random");
  await expect(member.room("Random").getByTestId("unread")).toHaveCount(0);
  await expect(member.messages().last()).toContainText("over in Random");

  // The staff room refuses the member with a visible reason.
  await member.room("Staff lounge").click();
  await expect(member.alert()).toContainText("This room is for staff only.");
  await expect(member.page.getByTestId("room-title")).toHaveText("Random");

  // Leaving closes the room and clears the joined mark.
  await memberPage.getByTestId("leave").click();
  await expect(memberPage.getByTestId("welcome")).toBeVisible();
  await expect(member.room("Random")).not.toHaveClass(/joined/);
  await expect(adminPage.getByTestId("member-notice").last()).toHaveText(`${MEMBER.name} left`);

  // Renames, deletions and staff-only switches reach the member without a reload.
  await rooms.goto();
  const rename = rooms.row("Random").locator("form.rename");
  await rename.locator("input").fill("Random stuff");
  await rename.getByRole("button", { name: "Rename" }).click();
  await expect(member.room("Random stuff")).toBeVisible();
  await rooms.createRoom("Doomed");
  await expect(member.room("Doomed")).toBeVisible();
  await rooms.delete("Doomed");
  await expect(member.room("Doomed")).toHaveCount(0);
  await member.open("General");
  await rooms.setKind("General", "staff_only");
  await expect(member.alert()).toContainText("is for staff only now");
  await expect(member.room("General")).toContainText("staff");
  await expect(memberPage.getByTestId("welcome")).toBeVisible();

  noAdminErrors();
  noMemberErrors();
});
