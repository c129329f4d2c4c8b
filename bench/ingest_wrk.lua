-- wrk script for bench/ingest_load.py: every POST carries a unique idempotency key and event
-- id; statuses and the keys of 201 answers are collected and written to a file at the end.
--
-- WRK_OUTPUT=FILE wrk -s bench/ingest_wrk.lua URL -- TAG METHOD PATH AUTHORIZATION PAYLOAD
--
-- PAYLOAD: "spec" (the TaskSpec with idempotency_key and source) or "activity" (activity-core's
-- IssueSink body, exactly as it posts, with a new triggering_event_id each time).

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  tag, method, path, auth, payload = args[1], args[2], args[3], args[4], args[5] or "spec"
  counter = 0
  statuses = {}
  keys = {}
  get_headers = { ["Authorization"] = auth }
  post_headers = { ["Authorization"] = auth, ["Content-Type"] = "application/json" }
end

local BODY = '{"title":"Load test task %d/%d","description":"Created by bench/ingest_load.py",'
  .. '"labels":["bench"],"priority":"p2",'
  .. '"source":{"system":"bench","event_id":"%s","trace_id":"%s"},"idempotency_key":"%s"}'

local ACTIVITY_BODY = '{"title": "Run SBOM rescan for activity-core", "description": "",'
  .. ' "target_repo": "activity-core", "priority": "medium",'
  .. ' "labels": ["sbom", "security", "automated"], "due_in_days": null,'
  .. ' "source_type": "rule", "source_id": "flag-stale-sbom", "triggering_event_id": "%s",'
  .. ' "activity_definition_id": "activity-definition-uuid"}'

function request()
  if method == "GET" then
    return wrk.format("GET", path, get_headers)
  end
  counter = counter + 1
  local key = tag .. "-" .. id .. "-" .. counter
  if payload == "activity" then
    return wrk.format("POST", path, post_headers, string.format(ACTIVITY_BODY, key))
  end
  return wrk.format("POST", path, post_headers, string.format(BODY, id, counter, key, key, key))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 and path == "/issues/" then
    -- The key as the answer states it, a JSON string (the derived activity key holds quotes);
    -- "backend" is the answer's next field.
    local key = string.match(body, '"idempotency_key":(".-"),"backend":')
    if key then
      keys[#keys + 1] = key
    end
  end
end

-- First line: "requests duration_us p50_us p99_us errors"; then "status STATUS COUNT" lines;
-- then one "key KEY" line per 201 answer (KEY a JSON string).
function done(summary, latency, requests)
  local file = assert(io.open(os.getenv("WRK_OUTPUT"), "w"))
  local errors = summary.errors
  file:write(string.format("%d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout))
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      file:write(string.format("status %d %d\n", status, count))
    end
    for _, key in ipairs(thread:get("keys")) do
      file:write("key ", key, "\n")
    end
  end
  file:close()
end
