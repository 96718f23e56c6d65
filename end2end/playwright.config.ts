import { defineConfig, devices } from "@playwright/test";

// The suite starts its own server on port 3100 over a fresh SQLite file, so it never touches a
// developer's `make run` database on port 3000. The specs share that server and run in order
// (first-run set-up must come first), one worker.
const PORT = 3100;

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  webServer: {
    command: "rm -rf .data && mkdir -p .data && ../target/debug/whisper",
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      DATABASE_URL: "sqlite://.data/e2e.db?mode=rwc",
      WHISPER_LISTEN: `127.0.0.1:${PORT}`,
      LEPTOS_SITE_ROOT: "../target/site",
      RUST_LOG: "warn",
      // The specs sign the same users in many times within a minute; the limit itself is
      // covered by the server's integration tests.
      WHISPER_LOGIN_PER_USER_PER_MINUTE: "100",
      // The history specs post 120 messages as fast as the page can type them.
      WHISPER_SENDS_PER_SECOND: "200",
    },
  },
});
