// Package browsertest is the test-support harness of the real-browser tests (design.md §7.5:
// chromedp + Debian chromium): it finds the browser, applies the README's skip rule, starts a
// headless Chromium that stays off the network, and saves full-page screenshots of every step as
// test artifacts.
//
// The journeys it drives are spec paynet-dp.md §7.6 (the E2E test journey, steps 5–11) and §7.5
// (the DP screens), through the pages of internal/web and internal/ofp/mockdc.
//
// Only _test.go files import this package; production code never does.
package browsertest
