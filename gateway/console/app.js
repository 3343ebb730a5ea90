// Switchyard console: plain JavaScript against the gateway's REST API (same origin).
"use strict";

const $ = (id) => document.getElementById(id);

// Calls the API; resolves to the parsed JSON (or null for 204), rejects with the error message
// the gateway sent (a google.rpc.Status body).
async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = json && json.message ? json.message : response.statusText;
    throw new Error(`${response.status}: ${message}`);
  }
  return json;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

// --- health -------------------------------------------------------------------------------------

async function refreshHealth() {
  const box = $("health");
  try {
    const response = await fetch("/health/ready");
    const body = await response.json();
    box.replaceChildren();
    for (const upstream of body.upstreams) {
      const span = document.createElement("span");
      const name = upstream.service.split(".").slice(-1)[0];
      span.textContent = `${name}: ${upstream.status}`;
      span.className = upstream.status === "SERVING" ? "serving" : "down";
      span.dataset.service = upstream.service;
      box.appendChild(span);
    }
  } catch (error) {
    box.textContent = `gateway unreachable (${error.message})`;
  }
}

// --- users --------------------------------------------------------------------------------------

let nextUserPage = "";

async function loadUsers(append) {
  const token = append ? nextUserPage : "";
  const query = token ? `?page_size=20&page_token=${encodeURIComponent(token)}` : "?page_size=20";
  try {
    const page = await api("GET", `/api/users${query}`);
    const rows = $("user-rows");
    if (!append) rows.replaceChildren();
    for (const user of page.users) {
      const row = document.createElement("tr");
      row.dataset.id = user.id;
      cell(row, user.name);
      cell(row, user.email);
      cell(row, new Date(user.created_at || user.createdAt).toLocaleDateString(), "nowrap");
      const actions = cell(row, "");
      actions.className = "actions";
      const remove = document.createElement("button");
      remove.textContent = "Delete";
      remove.className = "delete";
      remove.addEventListener("click", () => deleteUser(user.id));
      actions.appendChild(remove);
      rows.appendChild(row);
    }
    nextUserPage = page.next_page_token || page.nextPageToken || "";
    $("user-more").hidden = !nextUserPage;
    $("user-error").textContent = "";
  } catch (error) {
    $("user-error").textContent = error.message;
  }
}

async function createUser(event) {
  event.preventDefault();
  try {
    await api("POST", "/api/users", { name: $("user-name").value, email: $("user-email").value });
    $("user-form").reset();
    await loadUsers(false);
  } catch (error) {
    $("user-error").textContent = error.message;
  }
}

async function deleteUser(id) {
  try {
    await api("DELETE", `/api/users/${encodeURIComponent(id)}`);
    await loadUsers(false);
  } catch (error) {
    $("user-error").textContent = error.message;
  }
}

// --- data ---------------------------------------------------------------------------------------

function dataPath() {
  return "/api/data/" + $("data-key").value.split("/").map(encodeURIComponent).join("/");
}

async function putData(event) {
  event.preventDefault();
  try {
    const item = await api("PUT", dataPath(), { value: $("data-value").value });
    $("data-result").textContent = JSON.stringify(item, null, 2);
    $("data-error").textContent = "";
  } catch (error) {
    $("data-error").textContent = error.message;
  }
}

async function getData() {
  try {
    const item = await api("GET", dataPath());
    $("data-result").textContent = JSON.stringify(item, null, 2);
    $("data-value").value = item.value;
    $("data-error").textContent = "";
  } catch (error) {
    $("data-result").textContent = "";
    $("data-error").textContent = error.message;
  }
}

// --- jobs ---------------------------------------------------------------------------------------

const FINAL_STATES = new Set(["JOB_STATE_SUCCEEDED", "JOB_STATE_DEAD"]);
const jobStreams = new Map();  // job id -> EventSource following it

function fillJobRow(row, job) {
  row.replaceChildren();
  row.dataset.id = job.id;
  row.dataset.state = job.state;
  cell(row, job.id.slice(0, 8), "nowrap");
  cell(row, job.type, "nowrap");
  const live = jobStreams.has(job.id) ? " live" : "";
  cell(row, job.state.replace("JOB_STATE_", ""), "state nowrap" + live);
  cell(row, `${job.attempts}/${job.max_attempts ?? job.maxAttempts}`, "nowrap");
  cell(row, job.last_error ?? job.lastError ?? "");
}

function jobRow(id) {
  return document.querySelector(`#job-rows tr[data-id="${CSS.escape(id)}"]`);
}

// Follows a job live: GET /api/jobs/{id}:watch as Server-Sent Events, one event per state change
// (named after the state), until the job is SUCCEEDED or DEAD. The browser reconnects by itself
// with Last-Event-ID when the connection drops, and the stream resumes where it left off.
function followJob(id) {
  if (jobStreams.has(id)) return;
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}:watch`);
  jobStreams.set(id, source);
  const update = (event) => {
    const { job } = JSON.parse(event.data);
    let row = jobRow(job.id);
    if (!row) {
      row = document.createElement("tr");
      $("job-rows").prepend(row);
    }
    if (FINAL_STATES.has(job.state)) {
      source.close();  // the stream ends with the job; do not let EventSource reconnect
      jobStreams.delete(job.id);
    }
    fillJobRow(row, job);
  };
  for (const name of ["queued", "running", "retrying", "succeeded", "dead"]) {
    source.addEventListener(name, update);
  }
  source.addEventListener("error", (event) => {
    if (event.data) {
      // An error event from the gateway: a google.rpc.Status.
      $("job-error").textContent = `watch ${id.slice(0, 8)}: ${JSON.parse(event.data).message}`;
    }
  });
}

async function loadJobs() {
  try {
    const page = await api("GET", "/api/jobs?page_size=20");
    const rows = $("job-rows");
    rows.replaceChildren();
    for (const job of page.jobs) {
      const row = document.createElement("tr");
      rows.appendChild(row);
      if (!FINAL_STATES.has(job.state)) followJob(job.id);
      fillJobRow(row, job);
    }
  } catch (error) {
    $("job-error").textContent = error.message;
  }
}

async function submitJob(event) {
  event.preventDefault();
  let payload;
  try {
    payload = JSON.parse($("job-payload").value || "{}");
  } catch (error) {
    $("job-error").textContent = `payload is not JSON: ${error.message}`;
    return;
  }
  try {
    const job = await api("POST", "/api/jobs", { type: $("job-type").value, payload });
    $("job-error").textContent = "";
    const row = document.createElement("tr");
    $("job-rows").prepend(row);
    followJob(job.id);
    fillJobRow(row, job);
  } catch (error) {
    $("job-error").textContent = error.message;
  }
}

// --- data watch ---------------------------------------------------------------------------------

let dataWatch = null;

function stopWatch() {
  if (dataWatch) dataWatch.close();
  dataWatch = null;
  $("watch-start").disabled = false;
  $("watch-stop").disabled = true;
  $("watch-status").textContent = "not watching";
}

// Watches a key prefix: GET /api/data:watch?prefix=... as Server-Sent Events: "synced" once the
// watch is live, then "put" and "delete" for every change under the prefix, newest first here.
function startWatch(event) {
  event.preventDefault();
  stopWatch();
  const prefix = $("watch-prefix").value;
  $("watch-rows").replaceChildren();
  const source = new EventSource(`/api/data:watch?prefix=${encodeURIComponent(prefix)}`);
  dataWatch = source;
  $("watch-start").disabled = true;
  $("watch-stop").disabled = false;
  $("watch-status").textContent = "connecting…";
  source.addEventListener("synced", () => {
    $("watch-status").textContent = `watching "${prefix}" (live)`;
  });
  const change = (event) => {
    const { item } = JSON.parse(event.data);
    const row = document.createElement("tr");
    row.dataset.position = event.lastEventId;
    cell(row, event.type, "nowrap");
    cell(row, item.key);
    cell(row, item.version, "nowrap");
    cell(row, event.type === "put" ? item.value : "");
    $("watch-rows").prepend(row);
    while ($("watch-rows").children.length > 50) $("watch-rows").lastChild.remove();
  };
  source.addEventListener("put", change);
  source.addEventListener("delete", change);
  source.addEventListener("error", (event) => {
    if (event.data) {
      $("watch-status").textContent = `error: ${JSON.parse(event.data).message}`;
    } else if (source.readyState === EventSource.CONNECTING) {
      $("watch-status").textContent = "reconnecting (resumes where it left off)…";
    }
  });
}

// --- wiring -------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("user-form").addEventListener("submit", createUser);
  $("user-more").addEventListener("click", () => loadUsers(true));
  $("data-form").addEventListener("submit", putData);
  $("data-get").addEventListener("click", getData);
  $("job-form").addEventListener("submit", submitJob);
  $("watch-form").addEventListener("submit", startWatch);
  $("watch-stop").addEventListener("click", stopWatch);
  refreshHealth();
  loadUsers(false);
  loadJobs();  // then each unfinished job is followed live (followJob), with no polling
  setInterval(refreshHealth, 2000);
});
