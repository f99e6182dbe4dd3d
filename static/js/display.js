/* The waiting-room screen (templates/staff/waiting_room.html): polls its JSON every 2 s, shows
 * the newest call in the banner and each room's queue, speaks every new call once in Chinese
 * (speechSynthesis), and keeps the last state through network drops (retrying with backoff,
 * with a small "reconnecting" mark). Built to run all day without a reload: one clock timer,
 * one poll timer chained by setTimeout, the DOM replaced (never appended to), and the set of
 * calls already spoken replaced by the current calls on every poll. */
(function () {
  "use strict";

  const body = document.body;
  const url = body.dataset.stateUrl;
  const label = body.dataset;
  const clinicWide = body.classList.contains("display-clinic"); // rooms name their department
  const BASE_DELAY = 2000;
  const MAX_DELAY = 30000;
  const TIMEOUT = 8000;

  const clock = document.getElementById("display-clock");
  const date = document.getElementById("display-date");
  const mark = document.getElementById("reconnecting");
  const banner = document.getElementById("banner");
  const rooms = document.getElementById("rooms");
  const soundButton = document.getElementById("enable-sound");

  let delay = BASE_DELAY;
  let offset = 0; // server clock minus ours, so a TV with a wrong clock shows the clinic's time
  let spoken = null; // call ids already spoken (null until the first answer: old calls stay quiet)
  let bannerId = null;
  let roomsKey = "";

  const zone = body.dataset.tz || undefined;
  const locale = document.documentElement.lang.startsWith("en") ? "en-GB" : "zh-CN";
  const timeFormat = new Intl.DateTimeFormat(locale, {
    timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  const dateFormat = new Intl.DateTimeFormat(locale, {
    timeZone: zone, month: "long", day: "numeric", weekday: "long",
  });

  function tick() {
    const now = new Date(Date.now() + offset);
    clock.textContent = timeFormat.format(now);
    date.textContent = dateFormat.format(now);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderBanner(call) {
    const id = call ? call.id : "";
    if (id === bannerId) return;
    bannerId = id;
    if (!call) {
      banner.replaceChildren(el("span", "banner-idle", label.labelNobody));
      return;
    }
    const number = el("span", "banner-number", String(call.number));
    number.appendChild(el("small", "", label.labelNumber));
    banner.replaceChildren(
      number,
      el("span", "banner-name", call.name),
      el("span", "banner-room", label.labelGo + " " + (call.room || call.doctor)),
    );
    banner.classList.remove("is-new");
    void banner.offsetWidth; // restart the highlight animation
    banner.classList.add("is-new");
  }

  function renderRooms(list) {
    const key = JSON.stringify(list);
    if (key === roomsKey) return;
    roomsKey = key;
    const items = list.map(function (room) {
      const item = el("li", "room");
      const head = el("p", "room-head");
      head.append(el("span", "room-name", room.room || "—"), " ",
        el("span", "room-doctor", (clinicWide ? room.department + " · " : "") + room.doctor +
          " · " + room.title));
      const now = el("p", "room-now");
      now.append(el("span", "room-label", label.labelNow), " ",
        el("strong", "", room.calling ? room.calling.number + " " + room.calling.name : "—"));
      const next = el("p", "room-next");
      next.append(el("span", "room-label", label.labelNext), " ");
      if (room.next.length) {
        room.next.forEach(function (p) { next.append(el("span", "chip", p.number + " " + p.name)); });
      } else {
        next.append("—");
      }
      item.append(head, now, next, el("p", "room-waiting", room.waiting + " " + label.labelWaiting));
      return item;
    });
    rooms.replaceChildren.apply(rooms, items);
  }

  function speak(call) {
    const synth = window.speechSynthesis;
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") return;
    const utterance = new window.SpeechSynthesisUtterance(call.speech);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    synth.speak(utterance);
  }

  function announce(calls) {
    const ids = new Set(calls.map(function (c) { return c.id; }));
    if (spoken !== null) {
      calls.slice().reverse().forEach(function (call) { // oldest first
        if (!spoken.has(call.id)) speak(call);
      });
    }
    spoken = ids;
  }

  function apply(state) {
    const serverNow = Date.parse(state.now);
    if (!Number.isNaN(serverNow)) offset = serverNow - Date.now();
    renderBanner(state.calls[0] || null);
    renderRooms(state.rooms);
    announce(state.calls);
    body.dataset.updated = state.now; // when the screen last heard from the server
  }

  async function poll() {
    const controller = new AbortController();
    const timeout = setTimeout(function () { controller.abort(); }, TIMEOUT);
    try {
      const response = await fetch(url, {
        cache: "no-store", signal: controller.signal, headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      apply(await response.json());
      mark.hidden = true;
      delay = BASE_DELAY;
    } catch (error) {
      mark.hidden = false; // keep showing the last state
      delay = Math.min(delay * 2, MAX_DELAY);
    } finally {
      clearTimeout(timeout);
      setTimeout(poll, delay);
    }
  }

  // Browsers speak only after someone has touched the page once (a kiosk can allow it with
  // --autoplay-policy=no-user-gesture-required); until then a button asks for one tap.
  const activation = navigator.userActivation;
  if (window.speechSynthesis && !(activation && activation.hasBeenActive)) {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      window.speechSynthesis.speak(new window.SpeechSynthesisUtterance(""));
      soundButton.hidden = true;
    }, { once: true });
  }

  tick();
  setInterval(tick, 1000);
  poll();
})();
