// The page itself: a shell the bundled script fills in from live data.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>herd</title>
<link rel="stylesheet" href="/assets/app.css">
<link rel="icon" href="data:,">
</head>
<body>
<div id="app"><p class="loading">Loading the stack…</p></div>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;
