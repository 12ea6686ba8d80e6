// Lighthouse on several pages in one Chromium, a phone's view, for storefront/tests/test_lighthouse_browser.py:
//
//   CHROME_PATH=/usr/bin/chromium node lighthouse/audit.mjs OUTPUT_DIR URL...
//
// Writes OUTPUT_DIR/<n>.json, Lighthouse's report of the n-th URL (accessibility, best practices
// and SEO). LIGHTHOUSE_COOKIES (JSON, {"name": "value"}) are set in the browser first, e.g. the
// shopper's session: a cookie sent as an extra header is dropped once the shop sets one of its
// own (csrftoken). One browser and one Node process for all pages: the CLI starts both for each
// page, which took longer than the audits themselves.
import fs from "node:fs";
import path from "node:path";

import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const CHROME_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const [outputDir, ...urls] = process.argv.slice(2);
if (!outputDir || urls.length === 0) {
  console.error("usage: node audit.mjs OUTPUT_DIR URL...");
  process.exit(2);
}
const cookies = Object.entries(JSON.parse(process.env.LIGHTHOUSE_COOKIES || "{}"));

const browser = await puppeteer.launch({ executablePath: process.env.CHROME_PATH, headless: true, args: CHROME_FLAGS });
try {
  const page = await browser.newPage();
  for (const [index, url] of urls.entries()) {
    await page.setCookie(...cookies.map(([name, value]) => ({ name, value, url })));
    const result = await lighthouse(
      url,
      {
        output: "json",
        logLevel: "error",
        formFactor: "mobile",
        onlyCategories: ["accessibility", "best-practices", "seo"],
        disableFullPageScreenshot: true,
      },
      undefined,
      page,
    );
    fs.writeFileSync(path.join(outputDir, `${index}.json`), result.report);
  }
} finally {
  await browser.close();
}
