-- Searches as shoppers type them, each request another (a word, two words, a typo, a SKU), with
-- a number of its own so no cached page or count answers it: what a search costs the database
-- and the page every time. The report's figures come from report.lua.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")

local searches = {
  "sweater", "sweter", "wool+sweater", "mittens", "mitens", "hat", "scarf", "scarff", "jacket",
  "rain+jacket", "boots", "bots", "socks", "blanket", "blankett", "mug", "ceramic+mug", "bowl",
  "kettle", "kettel", "lamp", "candle", "candel", "rug", "backpack", "bakpack", "tent",
  "arctic+tent", "map", "knife", "spoon", "plate", "jam", "tea", "coffee", "chocolate", "soap",
  "puffin+mug", "smoked+salt", "lava+lamp", "BEN-0042", "BEN-09",
}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("prefix", threads)
end

local count = 0

function request()
  count = count + 1
  local search = searches[(count % #searches) + 1]
  return wrk.format(nil, "/?q=" .. search .. "&n=" .. prefix .. "-" .. count)
end
