// A tab greeted by a server of another protocol version reloads to get that server's code, but
// not in a loop: during a rolling upgrade behind a load balancer the reloaded page and its
// socket can again reach nodes of two versions. Within a minute of its last such reload the tab
// retries its socket instead. The test stands between the page and the server
// (`routeWebSocket`) and makes every greeting claim a newer version until told to stop.
// Self-contained: makes its own user. Runs after accounts.spec.ts (the admin).
import { test, expect } from "@playwright/test";
import { newUser, signedIn, waitForHydration } from "./pages";

test("a tab reloads once for a new server version, then retries instead of reloading again", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const page = await signedIn(browser, await newUser(browser, "upgrader"));

  // Each document of this tab counts itself as it starts, in session storage (which a reload
  // keeps): the count a socket sees tells how many times the page was loaded before it.
  await page.addInitScript(() => {
    sessionStorage.setItem("test.starts", String(Number(sessionStorage.getItem("test.starts")) + 1));
  });
  const starts = () => page.evaluate(() => Number(sessionStorage.getItem("test.starts")));

  let newerVersion = true;
  let sockets = 0;
  const opened: Array<() => void> = [];
  const socketOpened = (n: number) => new Promise<void>((resolve) => (opened[n] = resolve));
  const third = socketOpened(3);
  const fourth = socketOpened(4);
  // What the server sends on socket 3 waits until the test lets it through.
  let releaseThird = () => {};
  const thirdReleased = new Promise<void>((resolve) => (releaseThird = resolve));
  await page.routeWebSocket(/\/ws$/, (ws) => {
    sockets += 1;
    const socket = sockets;
    const server = ws.connectToServer();
    server.onMessage(async (message) => {
      // Everything on socket 3 waits with its greeting, in order.
      if (socket === 3) await thirdReleased;
      if (newerVersion && typeof message === "string") {
        const event = JSON.parse(message);
        if (event.type === "hello") {
          event.protocol_version += 1;
          ws.send(JSON.stringify(event));
          return;
        }
      }
      ws.send(message);
    });
    opened[socket]?.();
  });

  await page.goto("/");
  // Socket 1 is greeted by a "newer" server: the tab reloads. Socket 2, from the reloaded page,
  // is too, a moment later: no second reload; the tab says it is reconnecting and retries. So
  // socket 3 opens from the same document as socket 2: the page was loaded twice, not three
  // times.
  await third;
  expect(await starts()).toBe(2);
  await expect(page.getByTestId("connection")).toHaveText("Reconnecting…");

  // A minute after the last reload, a greeting of another version reloads the tab again.
  await page.evaluate(() => {
    const at = Number(sessionStorage.getItem("whisper.version-reload-at"));
    sessionStorage.setItem("whisper.version-reload-at", String(at - 61_000));
  });
  releaseThird();
  await fourth;
  expect(await starts()).toBe(3);

  // Once the greetings are of the page's own version, the tab connects and stays.
  newerVersion = false;
  await waitForHydration(page);
  await expect(page.getByTestId("connection")).toHaveText("Online");
  expect(await starts()).toBe(3);
});
