// Loads the vendored ALTCHA widget (npm "altcha", its strict-CSP "external" build) and gives
// it the one worker our challenges need, served from here: no CDN, no blob: workers, no
// inline script or style, so the widget page's Content-Security-Policy stays as it is.
import "./altcha.min.js";

var worker = new URL("./pbkdf2.js", import.meta.url).href;
globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", function () { return new Worker(worker); });
