// MediaNest's service worker, served at /sw.js so its scope is the whole site: it shows the
// notifications MediaNest pushes, and opens a notification's page when it is clicked. It
// caches nothing and answers no requests.

const INBOX = "/notifications";

// A notification only ever opens a page of this site.
function pageOf(url) {
  try {
    const parsed = new URL(url, self.location.origin);
    return parsed.origin === self.location.origin ? parsed.href : new URL(INBOX, self.location.origin).href;
  } catch {
    return new URL(INBOX, self.location.origin).href;
  }
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data ? event.data.text() : "" };
  }
  const title = typeof message.title === "string" && message.title ? message.title : "MediaNest";
  const options = {
    body: typeof message.body === "string" ? message.body : "",
    icon: "/static/img/favicon.svg",
    data: { url: pageOf(typeof message.url === "string" ? message.url : INBOX) },
  };
  // The same notification pushed again (a retry) replaces the first instead of adding one.
  if (typeof message.tag === "string" && message.tag) options.tag = message.tag;
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = pageOf((event.notification.data && event.notification.data.url) || INBOX);
  event.waitUntil(
    (async () => {
      const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const tab = open.find((client) => client.url === target && "focus" in client);
      return tab ? tab.focus() : self.clients.openWindow(target);
    })(),
  );
});
