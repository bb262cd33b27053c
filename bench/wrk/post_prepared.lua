-- POST pre-made JSON submissions, one per request, never reusing one.
--   BENCH_BODY_FILE  lines "kind<TAB>client-address<TAB>json-body" written by seed_ours.py;
--                    kind "warmup" lines are used when the URL is the warm-up thread,
--                    "fresh" lines otherwise.
-- Each request carries its own X-Forwarded-For (distinct client addresses through the
-- trusted proxy) and its own form token. Status counting and the summary line come from
-- the shared report.lua (BENCH_SHARED_WRK, default ../../shared/bench/wrk/).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local shared = os.getenv("BENCH_SHARED_WRK") or (here .. "../../../shared/bench/wrk/")
dofile(shared .. "report.lua")

local lines = {}
local position = 0

function init(args)
  local kind = string.find(wrk.path, "warmup", 1, true) and "warmup" or "fresh"
  local path = os.getenv("BENCH_BODY_FILE") or error("BENCH_BODY_FILE is not set")
  for line in io.lines(path) do
    local k, address, body = string.match(line, "^(%w+)\t([^\t]+)\t(.*)$")
    if k == kind then
      table.insert(lines, { address, body })
    end
  end
  if #lines == 0 then error("no prepared requests of kind " .. kind .. " in " .. path) end
end

function request()
  sent = sent + 1
  position = position + 1
  local item = lines[((position - 1) % #lines) + 1]
  local headers = { ["Content-Type"] = "application/json", ["Origin"] = "http://127.0.0.1:8084",
                    ["X-Forwarded-For"] = item[1] }
  return wrk.format("POST", nil, headers, item[2])
end
