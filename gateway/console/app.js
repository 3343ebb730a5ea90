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

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
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
      cell(row, new Date(user.created_at || user.createdAt).toLocaleString());
      const actions = cell(row, "");
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

async function loadJobs() {
  try {
    const page = await api("GET", "/api/jobs?page_size=20");
    const rows = $("job-rows");
    rows.replaceChildren();
    for (const job of page.jobs) {
      const row = document.createElement("tr");
      row.dataset.id = job.id;
      cell(row, job.id.slice(0, 8));
      cell(row, job.type);
      cell(row, job.state.replace("JOB_STATE_", "")).className = "state";
      cell(row, `${job.attempts}/${job.max_attempts ?? job.maxAttempts}`);
      cell(row, job.last_error ?? job.lastError ?? "");
      rows.appendChild(row);
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
    await api("POST", "/api/jobs", { type: $("job-type").value, payload });
    $("job-error").textContent = "";
    await loadJobs();
  } catch (error) {
    $("job-error").textContent = error.message;
  }
}

// --- wiring -------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("user-form").addEventListener("submit", createUser);
  $("user-more").addEventListener("click", () => loadUsers(true));
  $("data-form").addEventListener("submit", putData);
  $("data-get").addEventListener("click", getData);
  $("job-form").addEventListener("submit", submitJob);
  refreshHealth();
  loadUsers(false);
  loadJobs();
  // Jobs move on by themselves: watch them, and the upstreams, every two seconds.
  setInterval(() => {
    refreshHealth();
    loadJobs();
  }, 2000);
});
