// Page objects: how the specs reach each page's controls, by role, label or data-testid.
import { expect, type Browser, type BrowserContextOptions, type Page } from "@playwright/test";

export const ADMIN = { name: "ada", password: "ada-password-1" };
export const MEMBER = { name: "ben", password: "ben-password-1" };

export class LoginPage {
  constructor(private readonly page: Page) {}

  async goto(path = "/login") {
    await this.page.goto(path);
  }

  async login(name: string, password: string) {
    await this.page.getByLabel("Username").fill(name);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }

  error() {
    return this.page.getByTestId("error");
  }
}

export class AdminUsersPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/admin/users");
    await expect(this.page.getByRole("heading", { name: "Users" })).toBeVisible();
  }

  async createUser(name: string, password: string, opts: { staff?: boolean } = {}) {
    const form = this.page.getByTestId("create-user");
    await form.getByLabel("Username").fill(name);
    await form.getByLabel("Password").fill(password);
    if (opts.staff) await form.getByLabel("Staff").check();
    await form.getByRole("button", { name: "Create user" }).click();
    await expect(this.page.getByTestId("notice")).toHaveText("User created.");
  }

  row(name: string) {
    return this.page.getByTestId(`user-${name}`);
  }
}

/// Fails the test on any console error or uncaught exception (a hydration panic shows up here).
export function failOnConsoleErrors(page: Page) {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return () => expect(errors, "console errors").toEqual([]);
}

/// Waits until the WASM bundle has taken over the page.
export async function waitForHydration(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
}

export class AdminRoomsPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/admin/rooms");
    await expect(this.page.getByRole("heading", { name: "Rooms" })).toBeVisible();
  }

  async createRoom(title: string, opts: { staffOnly?: boolean } = {}) {
    const form = this.page.getByTestId("create-room");
    await form.getByLabel("Title").fill(title);
    if (opts.staffOnly) await form.getByLabel("Who can see it").selectOption("staff_only");
    await form.getByRole("button", { name: "Create room" }).click();
    await expect(this.page.getByTestId("notice")).toHaveText("Room created.");
  }

  row(title: string) {
    return this.page.getByTestId(`room-${title}`);
  }

  async setKind(title: string, kind: "open" | "staff_only" | "closed") {
    await this.row(title).getByLabel(`Who can see ${title}`).selectOption(kind);
    await this.row(title).getByRole("button", { name: "Change" }).click();
    await expect(this.page.getByTestId("notice")).toHaveText("Room updated.");
  }

  /// Deletes a room: "Delete…" opens the question, whose button deletes.
  async delete(title: string) {
    const row = this.row(title);
    await expect(row.getByRole("button", { name: "Delete room" })).toBeHidden();
    await row.getByText("Delete…").click();
    await expect(row.getByText(`Delete ${title} and all its messages for everyone?`)).toBeVisible();
    await row.getByRole("button", { name: "Delete room" }).click();
    await expect(this.page.getByTestId("notice")).toHaveText("Room deleted.");
  }
}

/// The chat page of one signed-in browser.
export class ChatPage {
  constructor(readonly page: Page) {}

  async goto() {
    await this.page.goto("/");
    await waitForHydration(this.page);
    await expect(this.page.getByTestId("connection")).toHaveText("Online");
  }

  room(title: string) {
    return this.page.getByTestId("room").and(this.page.locator(`[data-title="${title}"]`));
  }

  async open(title: string) {
    await this.room(title).click();
    await expect(this.page.getByTestId("room-title")).toHaveText(title);
  }

  async say(text: string) {
    await this.page.getByTestId("composer").fill(text);
    await this.page.getByTestId("composer").press("Enter");
    await expect(this.page.getByTestId("composer")).toHaveValue("");
  }

  messages() {
    return this.page.getByTestId("message");
  }

  alert() {
    return this.page.getByTestId("chat-alert");
  }
}

/// Signs in in a fresh browser context (with `options`) and returns its page.
export async function signedIn(
  browser: Browser,
  who: { name: string; password: string },
  options: BrowserContextOptions = {},
) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const login = new LoginPage(page);
  await login.goto();
  await login.login(who.name, who.password);
  await expect(page.getByTestId("signed-in-as")).toHaveText(who.name);
  return page;
}

/// A new user of its own for a self-contained spec, made by the admin (which accounts.spec.ts
/// set up): a name that starts with `role` and is unique to this run, and its password.
export async function newUser(browser: Browser, role: string) {
  const user = { name: `${role}-${Date.now().toString(36)}`, password: `${role}-password-1` };
  const users = new AdminUsersPage(await signedIn(browser, ADMIN));
  await users.goto();
  await users.createUser(user.name, user.password);
  return user;
}
