"""The yardstick of ``python -m bench core``: every figure ``analyze`` computes, as hand-written DuckDB SQL.

Written as a DuckDB expert would, over the same workspace tables ``analyze`` reads (the tables ingest keeps:
``person_journeys`` with each person's stages, persona and engagement columns; the raw ``touchpoints``,
``leads`` and ``opportunities``), one pass per result where possible. Each :data:`SECTIONS` entry is the
SQL of one analysis (or a group of them); the child process prints the CPU seconds of each, so
``analyze`` is compared overall and analysis by analysis. The default lifecycle (Lead, MQL, SQL,
Opportunity, Customer) and settings (dark after 30 days, nurture wait 14 days, engaged by an open) are assumed,
as the generated workspace has them.
"""

from __future__ import annotations

# {asof} is the as-of date (the latest stage entry or touch): a timestamp literal
AS_OF = """
select greatest((select max(entered_at) from stage_events where entered_at <= now()::timestamp),
                (select max(occurred_at) from touchpoints where occurred_at <= now()::timestamp))
"""

SECTIONS: dict[str, list[str]] = {
    # Funnel (stage reach, maturity, projection) + time in stage (completed, waiting, median, p90, KM median)
    "funnel_times": ["""
with spans as (
  select v.k, v.b, v.f, v.t, top, status from person_journeys,
  lateral (values (0, 1, at_0, at_1), (1, 2, at_1, at_2), (2, 3, at_2, at_3), (3, 4, at_3, at_4), (4, 4, at_0, at_4))
    v(k, b, f, t)
  where v.f is not null
), d as (
  select k, (epoch(t) - epoch(f)) / 86400.0 as days, true as done from spans where t >= f
  union all  -- still waiting: short of the target stage, not disqualified
  select k, (epoch({asof}) - epoch(f)) / 86400.0, false from spans
  where coalesce(top < b, true) and coalesce(status <> 'disqualified', true) and f <= {asof}
), g as (select k, floor(days * 24) as h, count_if(done) as ev, count(*) as c from d group by k, h),
r as (select k, h, ev, sum(c) over (partition by k order by h desc rows unbounded preceding) as at_risk from g),
s as (select k, h, exp(sum(ln(greatest(1 - ev / at_risk, 1e-300))) over (partition by k order by h
      rows unbounded preceding)) as surv from r),
km as (select k, min(h) filter (where surv <= 0.5) / 24 as km_median from s group by k),
q as (select k, count_if(done) as completed, count_if(not done) as waiting,
      median(days) filter (where done) as median, quantile_cont(days, 0.9) filter (where done) as p90
      from d group by k)
select * from q left join km using (k) order by k
"""],
    # Sources and personas (stage reach per segment; the funnel's people are the grand total)
    "sources_personas": ["""
select source, persona, count(*) as n, count_if(has_1) as r1, count_if(has_2) as r2, count_if(has_3) as r3,
       count_if(has_4) as r4
from person_journeys group by grouping sets ((source), (persona), ())
"""],
    # Speed-to-lead: from the MQL entry to the first human touch after it
    "speed_to_lead": ["""
with p as (select (epoch(first_human_after_stage_at) - epoch(at_1)) / 60.0 as minutes, at_1
           from person_journeys where at_1 is not null and at_1 <= {asof})
select count(*), count(minutes), avg(minutes), quantile_cont(minutes, [0.5, 0.9, 0.95]),
       count_if(minutes is null and at_1 <= {asof} - interval 7 day), count_if(minutes <= 5), count_if(minutes <= 60)
from p
"""],
    # Dark leads and re-engagement: one pass over the people's engagement columns
    "dark_leads": ["""
with p as (
  select top, re_at, re_kind, greatest(at_0, at_1, at_2, at_3, at_4) as last_entry,
         coalesce(last_touch_at, created_at) as quiet_since,
         not coalesce(status in ('Disqualified', 'Unqualified', 'Converted'), false) and coalesce(top < 4, true) as is_open,
         case when at_4 <= re_at then 4 when at_3 <= re_at then 3 when at_2 <= re_at then 2 when at_1 <= re_at then 1
              when at_0 <= re_at then 0 end as re_top
  from person_journeys
), s as (select *, is_open and coalesce(quiet_since <= {asof} - interval 30 day, false) as dark from p)
select grouping(coalesce(top, 0)) as g, coalesce(top, 0) as top, re_kind, coalesce(re_top, 0) as re_top,
       count_if(is_open) as n_open, count_if(dark) as n_dark, count_if(dark and re_at is not null) as again,
       median((epoch({asof}) - epoch(quiet_since)) / 86400.0) filter (where dark) as silent,
       count(re_at) as re, count_if(last_entry > re_at) as advanced
from s group by grouping sets ((coalesce(top, 0)), (re_kind, coalesce(re_top, 0)), ())
"""],
    # Pipeline and friction's deal size: open deals at the as-of date, won deals' amounts
    "pipeline_friction": ["""
select count(*) filter (where open) as open_deals, sum(amount) filter (where open) as open_amount,
       avg(amount) filter (where is_won) as deal_size, count(*) filter (where is_won) as won
from (select o.amount, coalesce(o.is_won, false) as is_won,
             o.amount is not null and not coalesce(o.is_won, false) and (o.created_at is null or o.created_at <= {asof})
             and (o.closed_at is null or o.closed_at > {asof}) as open
      from opportunities o join leads l using (lead_id) semi join person_journeys p on p.person_id = l.person_id)
"""],
    # Campaigns: e-mail engagement (people and e-mails), conversion of the engaged vs not, nurture steps,
    # content lift, sales touches; the selected people's touches read once into a temporary table
    "campaigns": ["""
create temp table ms as
select p.person_id, p.at_1, p.has_1, p.at_2, p.has_2, o.opp_at, o.won_at, coalesce(o.won_count, 0) > 0 as has_won
from person_journeys p left join (
  select l.person_id, min(o.created_at) as opp_at, min(o.closed_at) filter (where o.is_won) as won_at,
         count_if(o.is_won) as won_count
  from opportunities o join leads l using (lead_id) group by l.person_id) o using (person_id)
""", """
create temp table t as
select l.person_id, t.occurred_at, t.kind, t.actor, nullif(trim(t.campaign), '') as campaign,
       nullif(trim(t.asset), '') as asset,
       case when t.actor is distinct from 'human' then case
         when t.kind in ('email_send', 'email_sent', 'send_email', 'sent', 'send', 'email_send_success') then 'send'
         when t.kind in ('email_delivered', 'delivered', 'email_delivery', 'delivery') then 'delivered'
         when t.kind in ('email_open', 'email_opened', 'open_email', 'open', 'opened') then 'open'
         when t.kind in ('email_click', 'email_clicked', 'click_email', 'click_link_in_email', 'click', 'clicked') then 'click'
         when t.kind in ('email_unsubscribe', 'email_unsubscribed', 'unsubscribe_email', 'unsubscribe', 'unsubscribed')
           then 'unsubscribe' end end as event
from touchpoints t join leads l using (lead_id) semi join person_journeys p on p.person_id = l.person_id
where t.occurred_at <= {asof}
""", """
with m as (  -- a person x an e-mail of a campaign
  select campaign, person_id, asset, min(occurred_at) as first_at, bool_or(event = 'send') as sent,
         bool_or(event = 'delivered') as delivered, bool_or(event in ('open', 'click')) as opened,
         bool_or(event = 'click') as clicked, bool_or(event = 'unsubscribe') as unsub,
         min(occurred_at) filter (where event in ('open', 'click')) as engaged_at
  from t where event is not null and campaign is not null group by all
), per as (
  select campaign, person_id, min(first_at) as first_at, bool_or(sent) as sent, bool_or(delivered) as delivered,
         bool_or(opened) as opened, bool_or(clicked) as clicked, bool_or(unsub) as unsub, min(engaged_at) as engaged_at,
         count(*) as messages, count_if(delivered) as m_delivered, count_if(clicked) as m_clicked,
         count_if(delivered and clicked) as m_del_clicked
  from m group by all
), j as (select per.*, ms.* exclude (person_id) from per join ms using (person_id))
select campaign, count(*) as emailed, count_if(sent), count_if(delivered), count_if(opened), count_if(clicked),
       count_if(unsub), count_if(delivered and opened), count_if(delivered and clicked), count_if(delivered and unsub),
       count_if(sent and delivered), sum(messages), sum(m_delivered), sum(m_clicked), sum(m_del_clicked),
       count_if((at_1 is null or at_1 > first_at) and engaged_at is not null and (at_1 is null or engaged_at <= at_1)) as n_e1,
       count_if((at_1 is null or at_1 > first_at) and engaged_at is not null and (at_1 is null or engaged_at <= at_1) and has_1) as k_e1,
       count_if((at_1 is null or at_1 > first_at) and not (engaged_at is not null and (at_1 is null or engaged_at <= at_1))) as n_n1,
       count_if((at_1 is null or at_1 > first_at) and not (engaged_at is not null and (at_1 is null or engaged_at <= at_1)) and has_1) as k_n1,
       count_if((at_2 is null or at_2 > first_at) and engaged_at is not null and (at_2 is null or engaged_at <= at_2)) as n_e2,
       count_if((at_2 is null or at_2 > first_at) and engaged_at is not null and (at_2 is null or engaged_at <= at_2) and has_2) as k_e2,
       count_if((at_2 is null or at_2 > first_at) and not (engaged_at is not null and (at_2 is null or engaged_at <= at_2))) as n_n2,
       count_if((at_2 is null or at_2 > first_at) and not (engaged_at is not null and (at_2 is null or engaged_at <= at_2)) and has_2) as k_n2,
       count_if((won_at is null or won_at > first_at) and engaged_at is not null and (won_at is null or engaged_at <= won_at)) as n_e3,
       count_if((won_at is null or won_at > first_at) and engaged_at is not null and (won_at is null or engaged_at <= won_at) and has_won) as k_e3,
       count_if((won_at is null or won_at > first_at) and not (engaged_at is not null and (won_at is null or engaged_at <= won_at))) as n_n3,
       count_if((won_at is null or won_at > first_at) and not (engaged_at is not null and (won_at is null or engaged_at <= won_at)) and has_won) as k_n3
from j group by campaign order by emailed desc, campaign
""", """
with mail as (select * from t where event is not null and campaign is not null),
got as (select campaign, person_id, occurred_at, event, bool_or(event = 'send') over (partition by campaign) as has_send
        from mail where event in ('send', 'delivered')),
steps as (
  select campaign, person_id, occurred_at, row_number() over w as step, lead(occurred_at) over w as next_at
  from got where event = case when has_send then 'send' else 'delivered' end
  window w as (partition by campaign, person_id order by occurred_at)
), unsub as (select campaign, person_id, min(occurred_at) as unsub_at from mail where event = 'unsubscribe' group by all)
select campaign, step, count(*) as received, count(next_at) as continued,
       count_if(next_at is null and occurred_at > {asof} - interval 14 day) as in_flight,
       count_if(unsub_at >= occurred_at and (next_at is null or unsub_at < next_at)) as unsub
from steps left join unsub using (campaign, person_id) where step <= 12 group by all
""", """
with c as (
  select asset, person_id, min(occurred_at) as first_at from t
  where asset is not null and actor is distinct from 'human' and kind not in ('email_send', 'email_sent', 'send_email',
    'sent', 'send', 'email_send_success', 'email_delivered', 'delivered', 'email_delivery', 'delivery', 'email_open',
    'email_opened', 'open_email', 'open', 'opened', 'email_unsubscribe', 'email_unsubscribed', 'unsubscribe_email',
    'unsubscribe', 'unsubscribed', 'email_bounce', 'email_bounced', 'bounce', 'program_status', 'revenue_stage',
    'change_status_in_progression', 'change_revenue_stage')
  group by all
), top as (select asset from c group by asset order by count(*) desc, asset limit 20)
select asset, count_if(has_1 and at_1 is not null and first_at <= at_1), count_if(not has_1),
       count_if(has_2 and at_2 is not null and first_at <= at_2), count_if(not has_2),
       count_if(has_won and won_at is not null and first_at <= won_at), count_if(not has_won),
       any_value(totals)
from c semi join top using (asset) join ms using (person_id)
cross join (select struct_pack(c1 := count_if(has_1 and at_1 is not null), n1 := count_if(not has_1),
            c2 := count_if(has_2 and at_2 is not null), n2 := count_if(not has_2),
            c3 := count_if(has_won and won_at is not null), n3 := count_if(not has_won)) as totals from ms)
group by asset order by asset
""", """
with h as (select person_id, occurred_at from t where actor = 'human'),
per as (
  select ms.person_id, count_if(h.occurred_at <= ms.opp_at) filter (where ms.opp_at is not null) as before_opp,
         count_if(h.occurred_at <= ms.won_at) filter (where ms.won_at is not null) as before_won,
         any_value(ms.opp_at) as opp_at, any_value(ms.won_at) as won_at
  from ms left join h using (person_id) where ms.opp_at is not null group by ms.person_id
)
select count(*), median(before_opp), avg(before_opp), quantile_cont(before_opp, 0.9),
       histogram(least(before_opp, 10)),
       count(won_at), median(before_won) filter (where won_at is not null), avg(before_won) filter (where won_at is not null),
       quantile_cont(before_won, 0.9) filter (where won_at is not null), histogram(least(before_won, 10)) filter (where won_at is not null)
from per
"""],
}

SCRIPT = '''
import time
import duckdb
from bench.hand_sql import AS_OF, SECTIONS
started = time.perf_counter()
con = duckdb.connect({db!r}, read_only=True)
con.execute("SET enable_progress_bar = false")
asof = "timestamp '" + str(con.execute(AS_OF).fetchone()[0]) + "'"
for name, queries in SECTIONS.items():
    cpu = time.process_time()
    for q in queries:
        con.execute(q.format(asof=asof)).fetchall()
    print("section", name, time.process_time() - cpu)
print("compute_seconds", time.perf_counter() - started)
'''
