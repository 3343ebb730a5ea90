-- wrk script: POST /api/users, each request with an email no other request (or run) uses.
local thread_count = 0
local sent = 0
local run = tostring(os.time())

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

function init(args)
  if args[1] then run = args[1] .. "-" .. run end
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  sent = sent + 1
  local body = string.format('{"name":"Bench %d","email":"bench-%s-%d-%d@bench.example"}',
                             sent, run, thread_id or 0, sent)
  return wrk.format("POST", "/api/users", headers, body)
end
