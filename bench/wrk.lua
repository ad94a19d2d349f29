-- The script bench/suite.ts and bench/memory.ts give wrk (-s bench/wrk.lua).
-- Arguments after `--`: the method, then the request body's size in bytes
-- (a body of that many 'a's; 0 for none). Path, query and headers come
-- from wrk's own URL and -H arguments.
-- done() prints one line, WRK_JSON {...}, that the benchmark parses: wrk's
-- human-readable units (k, M, ms, us) would have to be parsed otherwise.

init = function(args)
  if args[1] ~= nil then wrk.method = args[1] end
  local size = tonumber(args[2] or "0")
  if size > 0 then wrk.body = string.rep("a", size) end
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"durationUs":%.0f,"requests":%.0f,"bytes":%.0f,"connectErrors":%.0f,"readErrors":%.0f,' ..
    '"writeErrors":%.0f,"statusErrors":%.0f,"timeouts":%.0f,"p50Us":%.0f,"p99Us":%.0f}\n',
    summary.duration, summary.requests, summary.bytes, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, latency:percentile(50), latency:percentile(99)))
end
