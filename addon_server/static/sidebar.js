// The mapsheets sidebar. Every value from the plan goes in through textContent, never as HTML.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var sheet = app.dataset.sheet, user = app.dataset.user;
  var state = { plan: null, me: null };

  // One transport: inside Sheets google.script.run -> Code.gs callBackend (no cross-origin calls
  // from Google's sandbox); served directly by the backend, fetch (dev mode names the user).
  function call(path, body) {
    if (window.google && google.script && google.script.run) {
      return new Promise(function (resolve, reject) {
        google.script.run.withSuccessHandler(function (text) {
          var answer = JSON.parse(text);
          resolve({ status: answer.status, body: answer.body });
        }).withFailureHandler(reject).callBackend(path, JSON.stringify(body));
      });
    }
    body.spreadsheet_id = sheet;
    var headers = { "Content-Type": "application/json" };
    if (user) headers["X-Mapsheets-Dev-User"] = user;
    if (app.dataset.token) headers["X-Mapsheets-Access-Token"] = app.dataset.token;  // dev: the Google API double
    return fetch("/api/" + path, { method: "POST", headers: headers, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function say(text) { document.getElementById("status").textContent = text; }
  function fail(text) {
    var box = document.getElementById("error");
    box.textContent = text || ""; box.hidden = !text;
  }
  function clearErrors(form) {
    form.querySelectorAll(".err").forEach(function (e) { e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
  }
  // An error goes next to its field; what was typed stays where it is.
  function showError(form, answer) {
    var field = answer.body && answer.body.field, text = (answer.body && answer.body.error) || "Something went wrong";
    var slot = field && form.querySelector('.err[data-for="' + field + '"]');
    if (!slot) {  // about no field of this form (who may write, say): beside its button, where the eye is
      slot = form.querySelector(".err.form-level");
      if (!slot) {
        slot = form.insertBefore(el("div", null, "err form-level"), form.querySelector("button[type=submit]"));
        slot.setAttribute("role", "alert");
      }
      slot.textContent = text;
      slot.scrollIntoView({ block: "nearest" });
      return;
    }
    slot.textContent = text;
    var input = form.querySelector('[name="' + field + '"]');
    if (input) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", slot.id || ""); input.focus(); }
  }
  function formData(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (e) {
      if (!e.name || (e.type === "radio" && !e.checked)) return;
      out[e.name] = e.value;
    });
    return out;
  }
  function notifyParent() {
    if (window.parent !== window) window.parent.postMessage("mapsheets:changed", window.location.origin);
  }

  function load(message) {
    say("Loading…");
    return call("summary", {}).then(function (answer) {
      if (answer.status !== 200) {  // e.g. a workbook refused: say why, offer neither the plan nor Generate
        document.getElementById("generate").hidden = true; document.getElementById("plan").hidden = true;
        say(""); fail(answer.body.error); return;
      }
      fail("");
      state.plan = answer.body.plan; state.me = answer.body.me;
      document.getElementById("generate").hidden = !!state.plan;
      document.getElementById("plan").hidden = !state.plan;
      if (state.plan) { render(answer.body); say(message || "Signed in as " + state.me.email); }
      else {
        var ae = document.getElementById("g-ae-name");  // prefilled from the sign-in profile's name
        if (ae && !ae.value && state.me && state.me.name) ae.value = state.me.name;
        say("This sheet has no plan yet.");
      }
    }, function (err) { fail(String(err)); });
  }

  function render(data) {
    var plan = data.plan, box = clear(document.getElementById("summary"));
    document.getElementById("plan-h").textContent = plan.title || "Plan";
    var bar = box.appendChild(el("progress"));
    bar.max = plan.progress.total || 1; bar.value = plan.progress.done;
    bar.setAttribute("aria-label", "Steps done");
    var progress = box.appendChild(el("p", "Progress: " + plan.progress.done + "/" + plan.progress.total + " steps (" +
      plan.progress.percent + "%) "));
    progress.appendChild(el("span", plan.health, "badge " + String(plan.health).replace(/ /g, "-")));
    box.appendChild(el("p", "Target close: " + (plan.target_close || "not set") + " · projected: " +
      (plan.projected_close || "unknown")));
    if (data.forecast) box.appendChild(el("p", data.forecast.text, "forecast"));  // the seller side's only
    if (plan.overdue.length) {
      box.appendChild(el("h3", "Overdue"));
      var ul = box.appendChild(el("ul"));
      plan.overdue.forEach(function (s) { ul.appendChild(el("li", s.id + " " + s.title + " (due " + s.due + ")")); });
    }
    if (plan.due_soon.length) {
      box.appendChild(el("h3", "Due soon"));
      var soon = box.appendChild(el("ul"));
      plan.due_soon.forEach(function (s) { soon.appendChild(el("li", s.id + " " + s.title + " (due " + s.due + ")")); });
    }
    box.appendChild(el("h3", "Signatures"));
    var sigs = box.appendChild(el("ul", null, "signatures"));
    if (!plan.signatures.length) sigs.appendChild(el("li", "none yet"));
    plan.signatures.forEach(function (s) {
      var li = sigs.appendChild(el("li", s.name + " (" + s.side + ", " + s.email + "): "));
      li.appendChild(el("span", s.status, s.status));
      if (s.by) li.appendChild(el("span", " · " + s.by, "method"));  // how the signer was known
    });
    var steps = box.appendChild(el("ul", null, "steps"));
    steps.hidden = true;
    plan.steps.forEach(function (s) { steps.appendChild(el("li", s.id + " " + s.title)); });

    var changes = clear(document.getElementById("changes"));
    var ch = data.changes;
    if (ch.first_look) changes.appendChild(el("li", "First visit: changes show from your next visit."));
    else if (!ch.text.length) changes.appendChild(el("li", "Nothing changed."));
    else ch.text.forEach(function (t) { changes.appendChild(el("li", t)); });

    var phase = clear(document.getElementById("s-phase"));
    phase.appendChild(el("option", ""));
    plan.phases.forEach(function (p) { var o = el("option", p); o.value = p; phase.appendChild(o); });
    phase.value = plan.next_phase || "";  // where the next open step is: most new steps belong there
    var names = clear(document.getElementById("team-names"));
    plan.team.forEach(function (p) { var o = el("option"); o.value = p.name; names.appendChild(o); });
    var ids = clear(document.getElementById("step-ids"));
    plan.steps.forEach(function (s) { var o = el("option"); o.value = s.id; o.label = s.title; ids.appendChild(o); });

    var side = data.me.side;
    // What a signature covers, one fact a line.
    var what = clear(document.getElementById("sign-what")), facts = what.appendChild(el("dl", null, "signing"));
    [["You sign", plan.step_count + " steps"], ["Target close", plan.target_close || "not set"],
     ["Plan fingerprint", plan.fingerprint, "fp"],
     ["As", side ? data.me.email + ", for the " + side + " side" : data.me.email + " (no side on this plan)"]]
      .forEach(function (f) { facts.appendChild(el("dt", f[0])); facts.appendChild(el("dd", f[1], f[2])); });
    document.getElementById("sign-button").textContent = side ? "Sign for the " + side + " side" : "Sign";
    document.querySelectorAll('#email-form input[name="every"]').forEach(function (r) {
      r.checked = r.value === data.me.subscription;
    });
  }

  function submit(formId, path, build, done) {
    var form = document.getElementById(formId);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form); fail("");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      call(path, build(formData(form))).then(function (answer) {
        button.disabled = false;
        if (answer.status >= 400) { showError(form, answer); return; }
        var message = done ? done(form, answer.body) : "";
        notifyParent();
        return load(message);
      }, function (err) { button.disabled = false; fail(String(err)); });
    });
  }
  function list(text) { return (text || "").split(",").map(function (x) { return x.trim(); }).filter(Boolean); }

  submit("generate-form", "generate", function (d) { return d; }, function () { return "Plan generated."; });
  submit("step-form", "steps", function (d) {
    d.owners = list(d.owners); d.depends_on = list(d.depends_on); return d;
  }, function (form, body) {
    form.reset(); document.getElementById("s-title").focus();
    return ["Added " + body.id + "."].concat(body.warnings || []).join(" ");
  });
  submit("sign-form", "sign", function () { return { side: state.me && state.me.side || "" }; },
    function (form, body) { return body.written ? "Signed." : "Already signed as the plan reads now."; });
  submit("ask-form", "request-signature", function (d) { return { to: d.to || "" }; },
    function (form, body) { form.reset(); return "Sent a link to sign to " + body.sent_to + "."; });
  submit("email-form", "subscription", function (d) { return { every: d.every || "" }; },
    function (form, body) { return "Digest: " + body.every + "."; });

  load();
})();
