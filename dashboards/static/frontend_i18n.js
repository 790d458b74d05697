/* Streamlit's own texts in the user's language (dashboards/frontend_i18n.py injects this file
 * into every page the server sends).
 *
 * Streamlit's frontend speaks English only. This script replaces the English texts it knows
 * (the catalogue's "finish.frontend.*" keys, served as JSON) in text nodes and in the
 * placeholder, aria-label and title attributes, as React renders them, and puts them back when
 * the language is English. The language is the "propcloud_lang" cookie the app sets on every
 * change (dashboards.frontend_i18n.tell_language), else the default language.
 *
 * It also closes the sidebar after a page is chosen in it on a narrow (phone) screen, where the
 * open sidebar covers the page.
 */
(function () {
  "use strict";
  var me = document.currentScript;
  var TEXTS_URL = me.getAttribute("data-texts");
  var DEFAULT_LANGUAGE = me.getAttribute("data-default") || "zh_CN";
  var COOKIE = "propcloud_lang";
  var ATTRIBUTES = ["placeholder", "aria-label", "title"];
  // the app's own elements: already in the user's language, and a user's words in them may
  // happen to equal one of Streamlit's texts ("Open", "Search")
  var SKIP = [
    "script",
    "style",
    "textarea",
    "[data-testid=stIconMaterial]",
    "[data-testid=stMarkdown]",
    "[data-testid=stCaptionContainer]",
    "[data-testid=stHeading]",
    "[data-testid=stAlert]",
    "[data-testid=stText]",
    "[data-testid=stCode]",
    "[data-testid=stWidgetLabel]",
  ].join(", ");
  var NARROW = "(max-width: 767.98px)"; // Streamlit's md breakpoint: below it the sidebar overlays
  var tables = null; // {language: {texts: {en: translated}, patterns: [[regex, template]]}}
  var shownText = new WeakMap(); // text node -> {source, shown}
  var shownAttributes = new WeakMap(); // element -> {attribute: {source, shown}}

  function language() {
    var found = document.cookie.match(/(?:^|;\s*)propcloud_lang=([^;]*)/);
    return found ? decodeURIComponent(found[1]) : DEFAULT_LANGUAGE;
  }

  function compile(raw) {
    var out = {};
    Object.keys(raw).forEach(function (lang) {
      var table = raw[lang];
      out[lang] = {
        texts: table.texts,
        patterns: table.patterns.map(function (p) {
          return [new RegExp(p[0]), p[1]];
        }),
      };
    });
    return out;
  }

  function translate(source, table) {
    var trimmed = source.trim();
    if (!trimmed) return source;
    var hit = Object.prototype.hasOwnProperty.call(table.texts, trimmed)
      ? table.texts[trimmed]
      : null;
    if (hit === null) {
      for (var i = 0; i < table.patterns.length && hit === null; i++) {
        var match = table.patterns[i][0].exec(trimmed);
        if (match) {
          hit = table.patterns[i][1].replace(/\{(\w+)\}/g, function (_, name) {
            return match.groups[name];
          });
        }
      }
    }
    if (hit === null) return source;
    var at = source.indexOf(trimmed);
    return source.slice(0, at) + hit + source.slice(at + trimmed.length);
  }

  function wanted(source) {
    var table = tables && tables[language()];
    return table ? translate(source, table) : source; // English or unknown: as Streamlit wrote it
  }

  function fixText(node) {
    var record = shownText.get(node);
    var current = node.nodeValue;
    var source = record && record.shown === current ? record.source : current;
    var target = wanted(source);
    if (target !== current) node.nodeValue = target;
    if (target !== source || record) shownText.set(node, { source: source, shown: target });
  }

  function fixAttributes(element) {
    var records = shownAttributes.get(element);
    for (var i = 0; i < ATTRIBUTES.length; i++) {
      var name = ATTRIBUTES[i];
      var current = element.getAttribute(name);
      if (current === null) continue;
      var record = records && records[name];
      var source = record && record.shown === current ? record.source : current;
      var target = wanted(source);
      if (target !== current) element.setAttribute(name, target);
      if (target !== source || record) {
        if (!records) {
          records = {};
          shownAttributes.set(element, records);
        }
        records[name] = { source: source, shown: target };
      }
    }
  }

  function skip(node) {
    var parent = node.parentElement;
    return !parent || parent.closest(SKIP);
  }

  function fixTree(root) {
    if (root.nodeType === Node.TEXT_NODE) {
      if (!skip(root)) fixText(root);
      return;
    }
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    fixAttributes(root);
    var walker = document.createTreeWalker(
      root,
      NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT
    );
    var node;
    while ((node = walker.nextNode())) {
      if (node.nodeType === Node.ELEMENT_NODE) fixAttributes(node);
      else if (!skip(node)) fixText(node);
    }
  }

  function apply() {
    document.documentElement.lang = language().replace("_", "-");
    if (tables && document.body) fixTree(document.body);
  }

  var observer = new MutationObserver(function (mutations) {
    if (!tables) return;
    observer.disconnect();
    for (var i = 0; i < mutations.length; i++) {
      var m = mutations[i];
      if (m.type === "childList") {
        for (var j = 0; j < m.addedNodes.length; j++) fixTree(m.addedNodes[j]);
      } else if (m.type === "characterData") {
        if (!skip(m.target)) fixText(m.target);
      } else if (m.type === "attributes") {
        fixAttributes(m.target);
      }
    }
    watch();
  });

  function watch() {
    observer.observe(document.documentElement, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ATTRIBUTES,
    });
  }

  // A page chosen in the sidebar on a phone: close the sidebar, which otherwise stays over it.
  document.addEventListener(
    "click",
    function (event) {
      var link = event.target.closest && event.target.closest("[data-testid=stSidebarNavLink]");
      if (!link || !window.matchMedia(NARROW).matches) return;
      window.setTimeout(function () {
        var sidebar = document.querySelector("[data-testid=stSidebar]");
        var close = document.querySelector("[data-testid=stSidebarCollapseButton] button");
        if (sidebar && close && sidebar.getAttribute("data-collapsed") === "false") close.click();
      }, 0);
    },
    true
  );

  window.propcloudTexts = { apply: apply };
  watch();
  fetch(TEXTS_URL, { credentials: "same-origin" })
    .then(function (response) {
      return response.json();
    })
    .then(function (raw) {
      tables = compile(raw);
      apply();
    })
    .catch(function () {});
})();
