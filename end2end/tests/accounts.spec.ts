// Accounts in a real browser: first-run set-up, log-in, the admin area, a second user in a
// second browser context, log-out; with JavaScript (hydrated) and without (server-rendered).
import { test, expect } from "@playwright/test";
import {
  ADMIN,
  MEMBER,
  AdminUsersPage,
  LoginPage,
  failOnConsoleErrors,
  waitForHydration,
} from "./pages";

test.describe.serial("accounts", () => {
  test("first run leads every page to set-up, which creates the admin", async ({ page }) => {
    const noErrors = failOnConsoleErrors(page);
    await page.goto("/admin/users");
    await expect(page).toHaveURL(/\/setup$/);
    await page.getByLabel("Admin username").fill(ADMIN.name);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByLabel("Repeat password").fill("not-the-same");
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await expect(page.getByTestId("error")).toHaveText("The two passwords differ.");

    await page.getByLabel("Admin username").fill(ADMIN.name);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByLabel("Repeat password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await expect(page.getByTestId("welcome")).toHaveText(`Welcome, ${ADMIN.name}.`);
    await expect(page.getByTestId("signed-in-as")).toHaveText(ADMIN.name);
    await expect(page.getByTestId("connection")).toHaveText("Online");
    noErrors();
  });

  test("the set-up page is gone once an admin exists", async ({ page }) => {
    const response = await page.goto("/setup");
    expect(response?.status()).toBe(404);
  });

  test("wrong password, then right one, lands on the page first asked for", async ({ page }) => {
    const noErrors = failOnConsoleErrors(page);
    await page.goto("/admin/users");
    await expect(page).toHaveURL(/\/login\?next=%2Fadmin%2Fusers$/);
    const login = new LoginPage(page);
    await login.login(ADMIN.name, "wrong-password");
    await expect(login.error()).toHaveText("Wrong username or password.");
    await login.login(ADMIN.name, ADMIN.password);
    await expect(page).toHaveURL(/\/admin\/users$/);
    await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
    noErrors();
  });

  test("admin creates a member, who signs in in a second browser and cannot administer", async ({
    browser,
  }) => {
    const adminContext = await browser.newContext();
    const adminPage = await adminContext.newPage();
    const noAdminErrors = failOnConsoleErrors(adminPage);
    await new LoginPage(adminPage).goto();
    await new LoginPage(adminPage).login(ADMIN.name, ADMIN.password);
    await expect(adminPage.getByTestId("welcome")).toBeVisible();
    await adminPage.getByTestId("admin-link").click();
    const users = new AdminUsersPage(adminPage);
    await expect(adminPage.getByRole("heading", { name: "Users" })).toBeVisible();
    await users.createUser(MEMBER.name, MEMBER.password);
    await expect(users.row(MEMBER.name)).toBeVisible();
    await expect(users.row(MEMBER.name).locator(".badge.staff")).toHaveCount(0);
    await expect(users.row(ADMIN.name).locator(".badge.admin")).toHaveCount(1);

    const memberContext = await browser.newContext();
    const memberPage = await memberContext.newPage();
    const noMemberErrors = failOnConsoleErrors(memberPage);
    await new LoginPage(memberPage).goto();
    await new LoginPage(memberPage).login(MEMBER.name, MEMBER.password);
    await expect(memberPage.getByTestId("welcome")).toHaveText(`Welcome, ${MEMBER.name}.`);
    await expect(memberPage.getByTestId("admin-link")).toHaveCount(0);
    // Checked here: the deliberate 403 below logs a (wanted) console error.
    noMemberErrors();
    const forbidden = await memberPage.goto("/admin/users");
    expect(forbidden?.status()).toBe(403);
    await expect(memberPage.getByRole("heading", { name: "Admins only" })).toBeVisible();

    await memberPage.goto("/");
    await waitForHydration(memberPage);
    await memberPage.getByRole("button", { name: "Log out", exact: true }).click();
    await expect(memberPage).toHaveURL(/\/login$/);
    await memberPage.goto("/");
    await expect(memberPage).toHaveURL(/\/login$/);
    noAdminErrors();
    await adminContext.close();
    await memberContext.close();
  });

  test("admin disables the member; the member can no longer sign in", async ({ browser }) => {
    const adminContext = await browser.newContext();
    const adminPage = await adminContext.newPage();
    await new LoginPage(adminPage).goto();
    await new LoginPage(adminPage).login(ADMIN.name, ADMIN.password);
    const users = new AdminUsersPage(adminPage);
    await users.goto();
    await users.row(MEMBER.name).getByRole("button", { name: "Disable" }).click();
    await expect(adminPage.getByTestId("notice")).toHaveText("User disabled; their sessions have ended.");
    await expect(users.row(MEMBER.name).locator(".badge.disabled")).toBeVisible();

    const memberContext = await browser.newContext();
    const memberPage = await memberContext.newPage();
    const login = new LoginPage(memberPage);
    await login.goto();
    await login.login(MEMBER.name, MEMBER.password);
    await expect(login.error()).toHaveText("Wrong username or password.");

    await users.row(MEMBER.name).getByRole("button", { name: "Enable" }).click();
    await expect(adminPage.getByTestId("notice")).toHaveText("User enabled.");
    await login.login(MEMBER.name, MEMBER.password);
    await expect(memberPage.getByTestId("welcome")).toBeVisible();
    await adminContext.close();
    await memberContext.close();
  });

  test("the form pages come without the WASM bundle; the chat and its admin link work around that", async ({
    browser,
  }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const noErrors = failOnConsoleErrors(page);
    // The log-in page is the server's alone: it runs no WASM (it only fetches the bundle for
    // the chat, into the cache), and its form works.
    await new LoginPage(page).goto("/login?next=%2Fadmin%2Frooms");
    await expect(page.locator("script[type=module]")).toHaveCount(0);
    await expect(page.locator('link[rel=prefetch][href$="/whisper.wasm"]')).toHaveCount(1);
    await new LoginPage(page).login(ADMIN.name, ADMIN.password);
    await expect(page).toHaveURL(/\/admin\/rooms$/);
    await expect(page.getByRole("heading", { name: "Rooms" })).toBeVisible();
    await expect(page.getByTestId("no-rooms").or(page.locator("table"))).toBeVisible();
    // The admin tabs are links between whole pages the server renders.
    const tabs = page.getByRole("navigation", { name: "Admin sections" });
    const users = new AdminUsersPage(page);
    await tabs.getByRole("link", { name: "Users" }).click();
    await expect(page).toHaveURL(/\/admin\/users$/);
    await expect(page.getByRole("link", { name: "Users" })).toHaveClass(/current/);
    await expect(users.row(MEMBER.name)).toBeVisible();
    await expect(users.row(ADMIN.name).locator(".badge.admin")).toHaveCount(1);
    await expect(page.getByRole("alert")).toHaveCount(0);
    await expect(page.locator("script[type=module]")).toHaveCount(0);
    await expect(page.locator("body[data-hydrated]")).toHaveCount(0);

    // The chat loads the bundle and hydrates; its "Admin" link is a whole-page load too.
    await page.getByRole("link", { name: "Whisper" }).click();
    await waitForHydration(page);
    await expect(page.getByTestId("connection")).toHaveText("Online");
    await expect(page.getByTestId("admin-link")).toHaveAttribute("rel", "external");
    await page.getByTestId("admin-link").click();
    await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
    await expect(page.locator("body[data-hydrated]")).toHaveCount(0);

    // Any other way into such a page from the chat (here the router itself, as a link in a
    // message would) loads it from the server rather than showing an empty page.
    await page.goto("/");
    await waitForHydration(page);
    await page.evaluate(() => {
      const link = document.createElement("a");
      link.href = "/admin/rooms?notice=room_created#top";
      link.textContent = "rooms";
      link.id = "in-page-link";
      document.body.append(link);
    });
    await page.locator("#in-page-link").click();
    await expect(page).toHaveURL(/\/admin\/rooms\?notice=room_created#top$/);
    await expect(page.getByRole("navigation", { name: "Admin sections" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Rooms", level: 1 })).toBeVisible();
    await expect(page.getByTestId("notice")).toHaveText("Room created.");
    await expect(page.locator("body[data-hydrated]")).toHaveCount(0);
    // One entry in the history: Back returns to the chat.
    await page.goBack();
    await expect(page).toHaveURL(/\/$/);
    noErrors();
    await context.close();
  });

  test("everything works with JavaScript off (server-rendered forms)", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
    const login = new LoginPage(page);
    await login.login(MEMBER.name, "wrong-password");
    await expect(login.error()).toHaveText("Wrong username or password.");
    await login.login(MEMBER.name, MEMBER.password);
    await expect(page.getByTestId("welcome")).toHaveText(`Welcome, ${MEMBER.name}.`);
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await expect(page).toHaveURL(/\/login$/);
    await context.close();
  });
});
