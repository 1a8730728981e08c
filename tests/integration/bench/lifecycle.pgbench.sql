-- One cash-in lifecycle as the Postgres store runs it, for pgbench (`-M prepared`, one script run
-- = one lifecycle): the same 17 statements on the same tables and indexes, rows of the same
-- sizes (JSON payloads padded to what a real lifecycle stores), no Node in the loop. It measures
-- what the database alone allows on this machine; `npm run bench:lifecycle` prints it next to the
-- real lifecycles/s and pgbench TPC-B.
\set n random(1, 9223372036854775806)
\set buyer random(1, 10000)
\set s1 random(1, 500)
\set s2 random(501, 1000)
\set a1 random(100, 100000)
\set a2 random(100, 100000)
\set shard random(0, 15)
-- Phase 1: idempotency key, then payment, orders and payment.created in one statement (the
-- store defers inserts nobody reads and sends them with the next statement or before COMMIT)
BEGIN;
INSERT INTO settlekit_idempotency_keys (scope, key, request_hash, recovery_point, locked_by, locked_until, response, state, created_at, updated_at, expires_at)
VALUES ('buyer:' || 'B' || :buyer::text, 'key_' || :n::text, md5(:n::text) || md5(:buyer::text), 'payment_created', 'owner_' || :n::text, now() + interval '60 seconds', NULL, ('{"paymentId":"pay_' || :n::text || '"}')::json, now(), now(), now() + interval '1 day')
ON CONFLICT (scope, key) DO NOTHING;
WITH d0 AS (
INSERT INTO settlekit_payments (id, buyer_id, currency, amount, status, method, psp_id, psp_reference, success_url, cancel_url, attempt, redirect_url, failure_reason, refunded_amount, metadata, version, created_at, updated_at, expires_at, check_after)
VALUES ('pay_' || :n::text, 'B' || :buyer::text, 'USD', :a1::bigint + :a2::bigint, 'created', 'card', 'sandbox', NULL, 'https://shop.example/done', 'https://shop.example/cart', 1, NULL, NULL, 0, '{"cart":"bench"}'::json, 1, now(), now(), now() + interval '1 day', NULL)
), d1 AS (
INSERT INTO settlekit_payment_orders (id, payment_id, position, buyer_id, seller_id, currency, amount, status, refund_status, refunded_amount, failure_reason, payout_reference, metadata, version, created_at, updated_at, fulfilled_at, paid_out_at)
VALUES ('po_' || :n::text || '_1', 'pay_' || :n::text, 0, 'B' || :buyer::text, 'S' || :s1::text, 'USD', :a1::bigint, 'pending', 'none', 0, NULL, NULL, '{}'::json, 1, now(), now(), NULL, NULL),
       ('po_' || :n::text || '_2', 'pay_' || :n::text, 1, 'B' || :buyer::text, 'S' || :s2::text, 'USD', :a2::bigint, 'pending', 'none', 0, NULL, NULL, '{}'::json, 1, now(), now(), NULL, NULL)
)
INSERT INTO settlekit_outbox (id, type, aggregate_type, aggregate_id, payload, created_at, available_at, attempts)
VALUES ('evt_a_' || :n::text, 'payment.created', 'payment', 'pay_' || :n::text, ('{"p":"' || repeat('x', 420) || '"}')::json, now(), now(), 0);
COMMIT;
-- Phase 3: after the PSP call, token and page stored (compare-and-set on the version phase 1
-- wrote, no read), response stored on the key
BEGIN;
UPDATE settlekit_payments SET buyer_id = 'B' || :buyer::text, currency = 'USD', amount = :a1::bigint + :a2::bigint, status = 'requires_payment', method = 'card', psp_id = 'sandbox', psp_reference = 'sbx_pay_' || :n::text, success_url = 'https://shop.example/done', cancel_url = 'https://shop.example/cart', attempt = 1, redirect_url = 'http://shop.bench/sandbox/pay/sbx_pay_' || :n::text, failure_reason = NULL, refunded_amount = 0, metadata = '{"cart":"bench"}'::json, version = 2, created_at = now(), updated_at = now(), expires_at = now() + interval '1 day', check_after = NULL
WHERE id = 'pay_' || :n::text AND version = 1;
WITH d0 AS (
INSERT INTO settlekit_outbox (id, type, aggregate_type, aggregate_id, payload, created_at, available_at, attempts)
VALUES ('evt_b_' || :n::text, 'payment.registered', 'payment', 'pay_' || :n::text, ('{"p":"' || repeat('x', 460) || '"}')::json, now(), now(), 0)
)
UPDATE settlekit_idempotency_keys SET updated_at = now(), recovery_point = 'finished', response = ('{"p":"' || repeat('x', 915) || '"}')::json, locked_until = NULL, locked_by = NULL
WHERE scope = 'buyer:' || 'B' || :buyer::text AND key = 'key_' || :n::text AND locked_by = 'owner_' || :n::text;
COMMIT;
-- The webhook: event id first, transition, the orders (one statement), journal, payment.succeeded
-- with the email job
BEGIN;
INSERT INTO settlekit_webhook_events (psp_id, event_id, payload, status, attempts, last_error, received_at, processed_at)
VALUES ('sandbox', 'evt_' || :n::text, ('{"p":"' || repeat('x', 275) || '"}')::json, 'processed', 1, NULL, now(), now())
ON CONFLICT (psp_id, event_id) DO NOTHING;
SELECT id, buyer_id, currency, status, method, psp_id, psp_reference, success_url, cancel_url, attempt, redirect_url, failure_reason, metadata, version, created_at, updated_at, expires_at, CAST(amount AS TEXT) AS amount, CAST(refunded_amount AS TEXT) AS refunded_amount
FROM settlekit_payments WHERE psp_id = 'sandbox' AND psp_reference = 'sbx_pay_' || :n::text FOR UPDATE;
UPDATE settlekit_payments SET buyer_id = 'B' || :buyer::text, currency = 'USD', amount = :a1::bigint + :a2::bigint, status = 'succeeded', method = 'card', psp_id = 'sandbox', psp_reference = 'sbx_pay_' || :n::text, success_url = 'https://shop.example/done', cancel_url = 'https://shop.example/cart', attempt = 1, redirect_url = 'http://shop.bench/sandbox/pay/sbx_pay_' || :n::text, failure_reason = NULL, refunded_amount = 0, metadata = '{"cart":"bench"}'::json, version = 3, created_at = now(), updated_at = now(), expires_at = now() + interval '1 day', check_after = NULL
WHERE id = 'pay_' || :n::text AND version = 2;
SELECT id, payment_id, buyer_id, seller_id, currency, status, refund_status, failure_reason, payout_reference, metadata, version, created_at, updated_at, fulfilled_at, paid_out_at, CAST(amount AS TEXT) AS amount, CAST(refunded_amount AS TEXT) AS refunded_amount
FROM settlekit_payment_orders WHERE payment_id = 'pay_' || :n::text ORDER BY position;
WITH u0 AS (
UPDATE settlekit_payment_orders SET buyer_id = 'B' || :buyer::text, seller_id = 'S' || :s1::text, currency = 'USD', amount = :a1::bigint, status = 'succeeded', refund_status = 'none', refunded_amount = 0, failure_reason = NULL, payout_reference = NULL, metadata = '{}'::json, version = 2, created_at = now(), updated_at = now(), fulfilled_at = NULL, paid_out_at = NULL
WHERE id = 'po_' || :n::text || '_1' AND version = 1
RETURNING 1
), u1 AS (
UPDATE settlekit_payment_orders SET buyer_id = 'B' || :buyer::text, seller_id = 'S' || :s2::text, currency = 'USD', amount = :a2::bigint, status = 'succeeded', refund_status = 'none', refunded_amount = 0, failure_reason = NULL, payout_reference = NULL, metadata = '{}'::json, version = 2, created_at = now(), updated_at = now(), fulfilled_at = NULL, paid_out_at = NULL
WHERE id = 'po_' || :n::text || '_2' AND version = 1
RETURNING 1
)
SELECT count(*) AS n FROM (SELECT 1 FROM u0 UNION ALL SELECT 1 FROM u1) AS updated;
WITH j AS (
  INSERT INTO settlekit_journals (id, reference, kind, metadata, created_at)
  VALUES ('jrn_' || :n::text, 'payment:' || 'pay_' || :n::text || ':' || 'sbx_pay_' || :n::text, 'payment_succeeded', ('{"p":"' || repeat('x', 110) || '"}')::json, now())
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
)
SELECT seq FROM j;
WITH d0 AS (
INSERT INTO settlekit_outbox (id, type, aggregate_type, aggregate_id, payload, created_at, available_at, attempts)
VALUES ('evt_c_' || :n::text, 'payment.succeeded', 'payment', 'pay_' || :n::text, ('{"p":"' || repeat('x', 455) || '"}')::json, now(), now(), 0)
)
INSERT INTO settlekit_jobs (id, type, payload, status, attempts, max_attempts, run_at, history, dedupe_key, created_at, updated_at)
VALUES ('job_' || :n::text, 'notify.payment_succeeded', ('{"paymentId":"pay_' || :n::text || '"}')::json, 'queued', 0, 10, now(), '[]'::json, 'notify:' || 'pay_' || :n::text, now(), now())
ON CONFLICT (dedupe_key) DO NOTHING RETURNING *;
COMMIT;
