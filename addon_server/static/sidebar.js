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
        var at = form.querySelector("button[type=submit]");
        slot = at.parentNode.insertBefore(el("div", null, "err form-level"), at);
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
      var notice = document.getElementById("notice");  // e.g. the scheduled digest run cannot open this sheet
      notice.textContent = answer.body.notice || ""; notice.hidden = !answer.body.notice;
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
    // "Acme × Globex" wrapped after the "×" puts it at the line's end, where it reads as a close button.
    document.getElementById("plan-h").textContent = (plan.title || "Plan").replace(/ × /g, " ×\u00a0");
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

    renderSteps(data.my_steps);

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

  // After any success no error from before stays red: it was about a request now behind us.
  function succeeded(message) {
    document.querySelectorAll("form").forEach(clearErrors);
    notifyParent();
    return load(message);
  }

  // My steps: the caller's open steps, then the rest of the next ones; each can be marked done,
  // or given a status (blocked needs a reason) or a new due date.
  function renderSteps(lists) {
    var mine = clear(document.getElementById("mine")), next = clear(document.getElementById("next-steps"));
    if (!lists) return;
    document.getElementById("my-steps-h").textContent = "My steps (" + lists.mine.length + ")";
    if (!lists.mine.length) mine.appendChild(el("li", "No open steps name you as owner.", "none"));
    lists.mine.forEach(function (s) { mine.appendChild(stepItem(s, lists.statuses)); });
    lists.next.forEach(function (s) { next.appendChild(stepItem(s, lists.statuses)); });
    if (lists.more) next.appendChild(el("li", "…and " + lists.more + " more in the sheet", "none"));
    document.getElementById("next-steps-h").hidden = !lists.next.length;
  }
  function stepItem(s, statuses) {
    var li = el("li", null, "step"), key = "st-" + s.id;
    li.dataset.step = s.id;
    li.appendChild(el("span", s.id + " " + s.title, "step-title"));
    li.appendChild(el("span", [s.owners.join(", ") || "no owner", s.due ? "due " + s.due : "no due date"].join(" · "),
      "step-meta"));
    var state = li.appendChild(el("span", null, "step-state"));
    state.appendChild(el("span", s.status, "chip " + s.status.replace(/ /g, "-")));
    state.appendChild(el("span", (s.phase || "(no phase)") + ": " + s.band, "band"));
    var form = el("form", null, "step-form");
    form.noValidate = true;
    var done = form.appendChild(el("button", "Mark done", "mark-done"));
    done.type = "button"; done.hidden = s.status === "done";
    var box = form.appendChild(el("details", null, "step-edit"));
    box.appendChild(el("summary", "Status or due date"));
    var status = field(box, "select", key + "-status", "Status", "status");
    statuses.forEach(function (v) { var o = el("option", v); o.value = v; status.appendChild(o); });
    status.value = s.status;
    field(box, "input", key + "-reason", "Reason (when blocked)", "reason");
    var due = field(box, "input", key + "-due", "Due date", "due");
    due.type = "date"; due.value = s.due || "";
    var save = box.appendChild(el("button", "Save"));
    save.type = "submit";
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { step: s.id };
      if (status.value !== s.status) body.status = status.value;
      if (due.value !== (s.due || "")) body.due = due.value;
      if (status.value === "blocked") body.reason = form.elements.reason.value;
      setStep(form, body, save);
    });
    done.addEventListener("click", function () { setStep(form, { step: s.id, status: "done" }, done); });
    li.appendChild(form);
    return li;
  }
  function field(parent, tag, id, label, name) {
    var lab = parent.appendChild(el("label", label));
    lab.htmlFor = id;
    var input = parent.appendChild(el(tag));
    input.id = id; input.name = name;
    var err = parent.appendChild(el("div", null, "err"));
    err.dataset.for = name; err.id = id + "-err";
    return input;
  }
  function setStep(form, body, button) {
    clearErrors(form); fail("");
    button.disabled = true;
    call("step-status", body).then(function (answer) {
      button.disabled = false;
      if (answer.status >= 400) {
        form.querySelector("details").open = true;  // the error shows beside the field it names
        showError(form, answer); return;
      }
      var s = answer.body.step, moved = answer.body.changed.indexOf("due") >= 0;
      var what = moved ? (answer.body.changed.length > 1 ? s.status + ", " : "") + "due " + s.due : s.status;
      return succeeded([s.id + ": " + what + "."]
        .concat(answer.body.warnings || []).join(" "));
    }, function (err) { button.disabled = false; fail(String(err)); });
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
        return succeeded(done ? done(form, answer.body) : "");
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
