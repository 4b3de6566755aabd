/// The console's page shell: navigation, the API-key form and an empty main area that each
/// page script fills. Pages are addressed by fragment (`#/jobs?state=active`,
/// `#/job/<id>`), so the server serves this one document and a reload keeps the page.
///
/// With API keys set, the key comes from the fragment (`/ojs/admin/#key=…`, which browsers
/// never send to the server, so it stays out of access logs) or from the form shown after a
/// 401. It is kept in sessionStorage only.
enum ConsolePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>ojs-edge console</title>
        <link rel="stylesheet" href="assets/console.css">
        <script defer src="assets/core.js"></script>
        <script defer src="assets/charts.js"></script>
        <script defer src="assets/overview.js"></script>
        <script defer src="assets/jobs.js"></script>
        <script defer src="assets/dead-letter.js"></script>
        <script defer src="assets/operations.js"></script>
        </head>
        <body>
        <header>
          <a class="brand" href="#/overview">ojs-edge</a>
          <nav id="nav">
            <a href="#/overview" data-page="overview">Overview</a>
            <a href="#/queues" data-page="queues">Queues</a>
            <a href="#/jobs" data-page="jobs">Jobs</a>
            <a href="#/dead-letter" data-page="dead-letter">Dead letter</a>
            <a href="#/workers" data-page="workers">Workers</a>
            <a href="#/cron" data-page="cron">Cron</a>
            <a href="#/settings" data-page="settings">Settings</a>
          </nav>
          <span id="node-badge" class="muted"></span>
        </header>
        <form id="key-form" hidden>
          <label>API key <input id="key-input" type="password" autocomplete="off"></label>
          <button type="submit">Use key</button>
          <span class="muted">The node answered 401: it needs one of its API keys.</span>
        </form>
        <div id="notice" role="status" hidden></div>
        <main id="main"><p class="muted">Loading…</p></main>
        </body>
        </html>
        """#
}
