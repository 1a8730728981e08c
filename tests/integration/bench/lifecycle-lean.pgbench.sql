-- What-if, for pgbench (`-M prepared`, one script run = one lifecycle): the work of
-- lifecycle.pgbench.sql — the same rows in the same tables and indexes, of the same sizes — written
-- as one data-modifying statement per phase (phase 1, phase 3, the webhook), each an implicit
-- transaction (no BEGIN/COMMIT round trips), and updates that set only the columns that change.
-- The store does not run this; `npm run bench:lifecycle` measures it to show how far the database
-- alone could go if the lifecycle's SQL were rewritten that way: the ceiling of a leaner design.
\set n random(1, 9223372036854775806)
\set buyer random(1, 10000)
\set s1 random(1, 500)
\set s2 random(501, 1000)
\set a1 random(100, 100000)
\set a2 random(100, 100000)
\set shard random(0, 15)
WITH k AS (
INSERT INTO settlekit_idempotency_keys (scope, key, request_hash, recovery_point, locked_by, locked_until, response, state, created_at, updated_at, expires_at)
VALUES ('buyer:' || 'B' || :buyer::text, 'key_' || :n::text, md5(:n::text) || md5(:buyer::text), 'payment_created', 'owner_' || :n::text, now() + interval '60 seconds', NULL, ('{"paymentId":"pay_' || :n::text || '"}')::json, now(), now(), now() + interval '1 day')
ON CONFLICT (scope, key) DO NOTHING RETURNING 1
), c AS (
INSERT INTO settlekit_payments (id, buyer_id, currency, amount, status, method, psp_id, psp_reference, success_url, cancel_url, attempt, redirect_url, failure_reason, refunded_amount, metadata, version, created_at, updated_at, expires_at, check_after)
SELECT 'pay_' || :n::text, 'B' || :buyer::text, 'USD', :a1::bigint + :a2::bigint, 'created', 'card', 'sandbox', NULL, 'https://shop.example/done', 'https://shop.example/cart', 1, NULL, NULL, 0, '{"cart":"bench"}'::json, 1, now(), now(), now() + interval '1 day', NULL FROM k RETURNING id
), o AS (
INSERT INTO settlekit_payment_orders (id, payment_id, position, buyer_id, seller_id, currency, amount, status, refund_status, refunded_amount, failure_reason, payout_reference, metadata, version, created_at, updated_at, fulfilled_at, paid_out_at)
SELECT v.* FROM c, (VALUES ('po_' || :n::text || '_1', 'pay_' || :n::text, 0, 'B' || :buyer::text, 'S' || :s1::text, 'USD', :a1::bigint, 'pending', 'none', 0, NULL, NULL, '{}'::json, 1, now(), now(), NULL::timestamptz, NULL::timestamptz),
       ('po_' || :n::text || '_2', 'pay_' || :n::text, 1, 'B' || :buyer::text, 'S' || :s2::text, 'USD', :a2::bigint, 'pending', 'none', 0, NULL, NULL, '{}'::json, 1, now(), now(), NULL, NULL)) AS v
)
INSERT INTO settlekit_outbox (id, type, aggregate_type, aggregate_id, payload, created_at, available_at, attempts)
SELECT 'evt_a_' || :n::text, 'payment.created', 'payment', 'pay_' || :n::text, ('{"p":"' || repeat('x', 420) || '"}')::json, now(), now(), 0 FROM c;
WITH u AS (
UPDATE settlekit_payments SET status = 'requires_payment', psp_reference = 'sbx_pay_' || :n::text, redirect_url = 'http://shop.bench/sandbox/pay/sbx_pay_' || :n::text, version = 2, updated_at = now()
WHERE id = 'pay_' || :n::text AND version = 1 RETURNING id
), e AS (
INSERT INTO settlekit_outbox (id, type, aggregate_type, aggregate_id, payload, created_at, available_at, attempts)
SELECT 'evt_b_' || :n::text, 'payment.registered', 'payment', 'pay_' || :n::text, ('{"p":"' || repeat('x', 460) || '"}')::json, now(), now(), 0 FROM u
)
UPDATE settlekit_idempotency_keys SET updated_at = now(), recovery_point = 'finished', response = ('{"p":"' || repeat('x', 915) || '"}')::json, locked_until = NULL, locked_by = NULL
WHERE scope = 'buyer:' || 'B' || :buyer::text AND key = 'key_' || :n::text AND locked_by = 'owner_' || :n::text AND EXISTS (SELECT 1 FROM u);
WITH w AS (
INSERT INTO settlekit_webhook_events (psp_id, event_id, payload, status, attempts, last_error, received_at, processed_at)
VALUES ('sandbox', 'evt_' || :n::text, ('{"p":"' || repeat('x', 275) || '"}')::json, 'processed', 1, NULL, now(), now())
ON CONFLICT (psp_id, event_id) DO NOTHING RETURNING 1
), u AS (
UPDATE settlekit_payments SET status = 'succeeded', version = 3, updated_at = now()
WHERE psp_id = 'sandbox' AND psp_reference = 'sbx_pay_' || :n::text AND version = 2 AND EXISTS (SELECT 1 FROM w) RETURNING id
), o AS (
UPDATE settlekit_payment_orders SET status = 'succeeded', version = 2, updated_at = now()
WHERE payment_id IN (SELECT id FROM u) AND version = 1
), j AS (
  INSERT INTO settlekit_journals (id, reference, kind, metadata, created_at)
  SELECT 'jrn_' || :n::text, 'payment:' || 'pay_' || :n::text || ':' || 'sbx_pay_' || :n::text, 'payment_succeeded', ('{"p":"' || repeat('x', 110) || '"}')::json, now() FROM u
  ON CONFLICT (reference) DO NOTHING RETURNING seq
), p AS (
  INSERT INTO settlekit_postings (journal_seq, ord, account, currency, direction, amount)
  SELECT j.seq, v.ord, v.account, 'USD', v.direction, v.amount
  FROM j, (VALUES (0, 'psp:' || 'sandbox:' || 'receivable', 'debit', :a1::bigint + :a2::bigint), (1, 'seller:' || 'S' || :s1::text || ':' || 'pending', 'credit', :a1::bigint), (2, 'seller:' || 'S' || :s2::text || ':' || 'pending', 'credit', :a2::bigint)) AS v(ord, account, direction, amount)
), b AS (
  INSERT INTO settlekit_balances AS bal (account, currency, shard, debits, credits)
  SELECT v.account, 'USD', v.shard, v.debits, v.credits
  FROM j, (VALUES ('psp:' || 'sandbox:' || 'receivable', :shard::int, :a1::bigint + :a2::bigint, 0::bigint), ('seller:' || 'S' || :s1::text || ':' || 'pending', 0, 0::bigint, :a1::bigint), ('seller:' || 'S' || :s2::text || ':' || 'pending', 0, 0::bigint, :a2::bigint)) AS v(account, shard, debits, credits)
  ORDER BY v.account
  ON CONFLICT (account, currency, shard) DO UPDATE SET debits = bal.debits + EXCLUDED.debits, credits = bal.credits + EXCLUDED.credits
), x AS (
INSERT INTO settlekit_outbox (id, type, aggregate_type, aggregate_id, payload, created_at, available_at, attempts)
SELECT 'evt_c_' || :n::text, 'payment.succeeded', 'payment', 'pay_' || :n::text, ('{"p":"' || repeat('x', 455) || '"}')::json, now(), now(), 0 FROM u
)
INSERT INTO settlekit_jobs (id, type, payload, status, attempts, max_attempts, run_at, history, dedupe_key, created_at, updated_at)
SELECT 'job_' || :n::text, 'notify.payment_succeeded', ('{"paymentId":"pay_' || :n::text || '"}')::json, 'queued', 0, 10, now(), '[]'::json, 'notify:' || 'pay_' || :n::text, now(), now() FROM u
ON CONFLICT (dedupe_key) DO NOTHING;
