-- Requests a random path from a file of paths (one per line), with a fixed seed so runs are comparable.
-- usage: wrk ... -s bench/wrk/paths.lua http://127.0.0.1:PORT -- /path/to/paths.txt
local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  math.randomseed(2022)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
