-- The traffic mix (bench/mix.py): replays a generated file of shoppers' requests, one a line
-- ("METHOD<TAB>path<TAB>Cookie header<TAB>form body"), from a given line on; thread k of n sends
-- lines offset+k, offset+k+n, … so each shopper's steps keep their order. Counts the whole-page
-- cache's answers from the X-Page-Cache header (o2o_site/cache/pages.py): hit, miss, or none
-- (a page that is not shared, a redirect). Prints report.lua's line and one of its own.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
local report_done = done

local threads = {}
local count = 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local file, offset = args[1], tonumber(args[2])
  local step = tonumber(args[3])
  requests_made, hits, misses, unshared, statuses = 0, 0, 0, 0, 0
  lines = {}
  local number = 0
  for line in io.lines(file) do
    if number >= offset and (number - offset) % step == index then
      local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["Cookie"] = cookie}
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      end
      table.insert(lines, wrk.format(method, path, headers, body))
    end
    number = number + 1
  end
  if #lines == 0 then
    error("bench/mix.lua: no requests left in " .. file .. " after line " .. offset)
  end
  position = 0
  line_count = #lines
end

function request()
  position = position % #lines + 1
  requests_made = requests_made + 1
  return lines[position]
end

function response(status, headers, body)
  local answer = headers["X-Page-Cache"]
  if answer == "hit" then
    hits = hits + 1
  elseif answer == "miss" then
    misses = misses + 1
  else
    unshared = unshared + 1
  end
  if status >= 400 then
    statuses = statuses + 1
  end
end

done = function(summary, latency, requests)
  report_done(summary, latency, requests)
  local made, hit, miss, other, failed, wrapped = 0, 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    local sent = thread:get("requests_made")
    made = math.max(made, sent)
    hit = hit + thread:get("hits")
    miss = miss + thread:get("misses")
    other = other + thread:get("unshared")
    failed = failed + thread:get("statuses")
    if sent > thread:get("line_count") then
      wrapped = 1
    end
  end
  io.write(string.format(
    'BENCH-MIX {"lines_used": %d, "hits": %d, "misses": %d, "unshared": %d, "status_4xx_5xx": %d, "wrapped": %d}\n',
    made * #threads, hit, miss, other, failed, wrapped))
end
