//! Report languages: every label of the page in English and Simplified
//! Chinese (terms from the glossary the lender's staff use), and the date
//! and change formats that differ between them. Numbers are grouped the same
//! way in both (CLDR's `#,##0.00` for `en` and `zh-CN` alike).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::input::snapshot::OptionalColumns;
use crate::states::{Bucket, Class};

pub use crate::base::locale::Locale;

/// (key, English, Chinese). Templates reach these as `t.<key>`; a key
/// missing here is a render error naming the template, caught by the tests.
const LABELS: &[(&str, &str, &str)] = &[
    ("title", "Collections report", "催收管理报告"),
    ("forecast", "Roll-rate forecast", "迁徙率预测"),
    ("forecast_sentence", "At last month's roll rates, {amount} ({low} \u{2013} {high}) of today's balance is written off by {month}.", "按上月迁徙率，今日余额中预计有 {amount}（{low} \u{2013} {high}）将于{month}前核销。"),
    ("forecast_staffing", "Next month the phone team faces about {m2} M2 loans ({low} \u{2013} {high}; {now} today).", "下月电催团队预计面对约 {m2} 笔M2贷款（{low} \u{2013} {high}；今日 {now} 笔）。"),
    ("forecast_today", "Today", "今日"),
    ("forecast_cum_charge_off", "Expected cumulative charge-off (balance, 95% band)", "预计累计核销（余额，95%预测区间）"),
    ("forecast_buckets", "Expected M1\u{2013}M3 loans", "预计M1\u{2013}M3贷款笔数"),
    ("forecast_month", "Month", "月份"),
    ("forecast_new_co", "New charge-off", "新增核销"),
    ("forecast_cum", "Cumulative charge-off", "累计核销"),
    ("forecast_interval", "95% interval", "95%预测区间"),
    ("forecast_note", "Run-off projection of today's book (no new loans) through last month's cohort roll rates (the 1m transition matrix, balance and loan bases); 95% intervals from 1,000 Dirichlet draws of its rows. Table forecast.", "对今日在册贷款的滚动预测（不含新增贷款），按上月队列迁徙率（1m迁徙矩阵，余额及笔数口径）逐月推演；95%预测区间来自对各行的1,000次狄利克雷抽样。数据表 forecast。"),
    ("forecast_thin", "Buckets without loans a month ago (kept as they are)", "上月无贷款的状态（按原值保持）"),
    ("forecast_duration_note", "Duration-based (Aalen-Johansen) matrix: {duration} loans charged off by {month}; cohort matrix: {cohort}.", "按久期法（Aalen-Johansen）矩阵：至{month}核销 {duration} 笔；队列法矩阵：{cohort} 笔。"),
    ("experiments", "Champion / challenger tests", "冠军/挑战者策略测试"),
    ("experiments_setup", "{share} of the loans in scope get the challenger strategy; scope: {scope}.", "范围内 {share} 的贷款采用挑战者策略；测试范围：{scope}。"),
    ("no_contacts", "No collection contacts in this run's window: the contact, channel and promise figures do not apply.", "本次运行的时间窗口内没有催收联系记录：联系、渠道与承诺还款数据不适用。"),
    ("no_secured", "No secured loans in this book.", "本账簿无抵押贷款。"),
    ("no_plans", "No loans on a repayment plan in this book.", "本账簿无处于还款计划中的贷款。"),
    ("no_legal", "No loans in a legal stage in this book.", "本账簿无处于诉讼阶段的贷款。"),
    ("chart_too_few", "Too few points to draw a line yet.", "数据点过少，暂无法绘制曲线。"),
    ("archive_title", "Collections reports", "催收管理报告存档"),
    ("archive_note", "Every published run date, newest first ({n}); each date opens its report. Rewritten by every run.", "全部已发布的业务日期，最新在前（共 {n} 个）；点击日期打开当日报告。每次运行后更新。"),
    ("archive_skipped", "Dates whose manifest could not be read", "无法读取清单的日期"),
    ("drivers", "Why it moved", "变动归因"),
    ("drivers_against", "Against {date}", "对比{date}"),
    ("drivers_sentence", "{metric} {moved} {change} since {date}", "{metric}较{date}{moved}{change}"),
    ("drivers_rose", "rose", "上升"),
    ("drivers_fell", "fell", "下降"),
    ("drivers_flat", "held within", "变动不超过"),
    ("drivers_by", "; by {dimension}, {effects}", "；按{dimension}，{effects}"),
    ("drivers_and", " and ", "，"),
    ("drivers_end", ".", "。"),
    ("drivers_rate_of", "{}'s rate", "{}的比率效应"),
    ("drivers_mix_of", "{}'s mix", "{}的结构效应"),
    ("drivers_chart", "{metric}: contributions by {dimension} (mix + rate)", "{metric}：按{dimension}的贡献（结构效应 + 比率效应）"),
    ("drivers_segment", "Segment", "细分"),
    ("drivers_table", "Every segment", "全部细分"),
    ("drivers_dimension", "Dimension", "维度"),
    ("drivers_weight", "Share of denominator", "分母占比"),
    ("drivers_ratio", "Ratio", "比率"),
    ("drivers_mix", "Mix effect", "结构效应"),
    ("drivers_rate", "Rate effect", "比率效应"),
    ("drivers_note", "The change of each ratio split exactly over the segments of a dimension with midpoint weights: the mix effect is the change of the segment's share of the denominator, the rate effect the change of its own ratio (metrics.md, Drivers); mix + rate over a dimension's segments is the change (a reconciliation check). Table drivers.", "每个比率的变动按某一维度的细分以中点权重精确分解：结构效应为细分在分母中占比的变化，比率效应为其自身比率的变化；同一维度各细分的结构效应与比率效应之和等于变动（对账校验）。数据表 drivers。"),
    ("dim_product", "product", "产品"),
    ("dim_region", "region", "地区"),
    ("dim_grade", "grade", "信用等级"),
    ("others", "others", "其他"),
    ("null_segment", "(none)", "（空）"),
    ("challenger", "challenger", "挑战者策略"),
    ("scope_dpd", "dpd", "逾期天数"),
    ("scope_grade", "grade", "信用等级"),
    ("scope_product", "product", "产品"),
    ("scope_see_policy", "see the policy", "见策略文件"),
    ("list_sep", ", ", "，"),
    ("experiments_whole_book", "every loan", "全部贷款"),
    ("experiments_challenger_better", "Challenger cures more, 95% sure: {challenger} against {champion} of the loans delinquent a month ago (difference {difference}, p = {p}).", "挑战者策略回收更多（95%置信）：上月逾期贷款的治愈率 {challenger}，冠军策略 {champion}（差异 {difference}，p = {p}）。"),
    ("experiments_champion_better", "Champion cures more, 95% sure: {champion} against {challenger} for the challenger, of the loans delinquent a month ago (difference {difference}, p = {p}).", "冠军策略回收更多（95%置信）：上月逾期贷款的治愈率 {champion}，挑战者策略 {challenger}（差异 {difference}，p = {p}）。"),
    ("experiments_not_yet", "No difference detectable yet: n = {n} in the smaller arm; a 5-point difference in the cure rate needs about {needed} loans per arm.", "尚无可检测的差异：较小测试组 n = {n}；要检测治愈率5个百分点的差异，每个测试组约需 {needed} 笔贷款。"),
    ("experiments_no_loans", "Not evaluated: one of the arms held no delinquent loans a month ago.", "无法评估：一个月前某一测试组没有逾期贷款。"),
    ("experiments_cure", "Cured (M0 or paid off) from", "治愈（M0或结清），自"),
    ("experiments_roll", "Rolled forward (worse bucket or WO) from", "向前迁徙（更差账龄或核销），自"),
    ("experiments_champion_n", "Champion loans", "冠军组笔数"),
    ("experiments_champion", "Champion (95% CI)", "冠军策略（95%置信区间）"),
    ("experiments_challenger_n", "Challenger loans", "挑战者组笔数"),
    ("experiments_challenger", "Challenger (95% CI)", "挑战者策略（95%置信区间）"),
    ("experiments_difference", "Challenger \u{2212} champion (95% CI)", "挑战者 \u{2212} 冠军（95%置信区间）"),
    ("experiments_all", "All delinquent", "全部逾期"),
    ("experiments_tiers_today", "Tier today", "今日催收等级"),
    ("experiments_na_no_1m", "Not evaluated yet: no snapshot one month before the run date.", "尚未评估：缺少一个月前的快照。"),
    ("experiments_na_no_worklist", "Not evaluated: the run of the 1m date published no usable worklist.", "无法评估：上月对比日的运行没有可用的催收清单。"),
    ("experiments_na_no_arms", "Not evaluated: the worklist of the 1m date has no arms (written before the experiment or before v2).", "无法评估：上月对比日的催收清单没有测试组（早于本测试或v2版本）。"),
    ("experiments_note", "Loans each arm held a month ago (the arm the run of the 1m date published in its worklist), followed to today; Wilson intervals per arm, Newcombe hybrid interval and two-proportion z-test for the difference. Tables experiments, worklist (experiment, arm) and transitions (tier transitions per arm).", "按一个月前各测试组的贷款（以上月对比日运行发布的催收清单中的测试组为准）跟踪至今日；各组为Wilson区间，差异为Newcombe混合区间及双比例z检验。数据表 experiments、worklist（experiment、arm）与 transitions（各测试组的催收等级迁徙）。"),
    ("forecast_na", "Not available: no snapshot one month before the run date.", "无数据：缺少一个月前的快照。"),
    ("backtest_title", "Backtest: what the run of {date} forecast for today", "回测：{date}的预测与今日实际"),
    ("backtest_na", "Backtest not available: the run of the 1m date published no forecast.", "回测无数据：上月对比日的运行未发布预测。"),
    ("forecast_loans", "Forecast loans", "预测笔数"),
    ("actual_loans", "Actual loans", "实际笔数"),
    ("forecast_balance", "Forecast balance", "预测余额"),
    ("actual_balance", "Actual balance", "实际余额"),
    ("backtest_error", "Error (balance)", "误差（余额）"),
    ("backtest_mape", "Mean absolute percentage error, M1\u{2013}M6+ (balance)", "M1\u{2013}M6+平均绝对百分比误差（余额）"),
    ("business_date", "Business date", "业务日期"),
    ("vs_prev", "vs prev", "较上期"),
    ("vs_1m", "vs 1m", "较上月"),
    ("not_available", "not available", "无数据"),
    ("no_column", "the book has no {} column", "数据中没有 {} 列"),
    ("null_column", "{} is null for every loan", "{} 列全部为空值"),
    ("missing_columns", "Optional columns the book does not give (read as null for every loan)", "数据未提供的可选列（每笔贷款均按空值处理）"),
    ("column", "Column", "列"),
    ("column_absent", "absent from the files", "文件中无此列"),
    ("column_all_null", "present, null in every row", "有此列，但全部为空值"),
    ("no_snapshot", "no snapshot", "无快照"),
    ("better", "better", "改善"),
    ("worse", "worse", "恶化"),
    ("unchanged", "unchanged", "持平"),
    ("headline", "At a glance", "概览"),
    ("kpi_loans", "Loans in book", "在册贷款笔数"),
    ("kpi_balance", "Principal balance", "本金余额"),
    ("kpi_dpd30", "DPD30+ (balance)", "逾期30天以上（余额）"),
    ("kpi_npl", "NPL ratio (balance)", "不良贷款率（余额）"),
    ("kpi_entry", "Entry rate (since prev)", "入催率（较上期）"),
    ("kpi_cure", "Cure rate (since prev)", "催回率（较上期）"),
    ("kpi_cash", "Cash collected", "回款金额"),
    ("kpi_recovered", "Recoveries after charge-off", "核销后回收"),
    ("active_loans", "active", "正常在催"),
    ("charged_off", "charged off", "已核销"),
    ("of_loans", "of loans", "笔数占比"),
    ("loans_word", "loans", "笔"),
    ("periods_note", "Comparison dates", "对比日期"),
    ("prev_is", "prev", "上期"),
    ("m1_is", "1m", "上月"),
    ("delinquency", "Delinquency ratios", "逾期率"),
    ("ratio", "Ratio", "指标"),
    ("count_basis", "Loans", "笔数口径"),
    ("balance_basis", "Balance", "余额口径"),
    ("numerator_denominator", "Loans (num / den)", "笔数（分子/分母）"),
    ("dpd1", "DPD1+", "逾期1天以上"),
    ("dpd30", "DPD30+", "逾期30天以上"),
    ("dpd90", "DPD90+", "逾期90天以上"),
    ("npl", "NPL ratio", "不良贷款率"),
    ("ratios_note", "DPD ratios are over active loans; the NPL ratio is over the book (active and charged off). Changes are in percentage points; red is worse, green better.", "逾期率以正常在册贷款为分母；不良贷款率以在册贷款（含已核销）为分母。变化以百分点计，红色为恶化，绿色为改善。"),
    ("ageing", "Ageing by bucket", "逾期账龄分布"),
    ("bucket", "Bucket", "账龄段"),
    ("loans", "Loans", "笔数"),
    ("share", "Share", "占比"),
    ("balance", "Principal balance", "本金余额"),
    ("past_due", "Past due", "逾期金额"),
    ("total", "Total", "合计"),
    ("ageing_chart", "Delinquent balance by product: share of each product's balance in M1..M6+ and charged off", "各产品逾期余额占比（M1..M6+ 及核销）"),
    ("by_product", "By product", "按产品"),
    ("by_region", "By region (largest 15 by active balance)", "按地区（按正常在册余额前15）"),
    ("segment", "Segment", "维度"),
    ("active_balance", "Active balance", "正常在册余额"),
    ("active_count", "Active loans", "正常在册笔数"),
    ("dpd30_balance", "DPD30+ (balance)", "逾期30天以上（余额）"),
    ("dpd90_balance", "DPD90+ (balance)", "逾期90天以上（余额）"),
    ("charged_off_balance", "Charged-off balance", "核销余额"),
    ("more_rows", "more not shown", "项未列出"),
    ("segments_note", "Red: DPD30+ above the whole book's.", "红色：逾期30天以上占比高于全账簿。"),
    ("classification", "Five-category classification", "五级分类"),
    ("class", "Class", "分类"),
    ("npl_note", "Shaded rows are non-performing (substandard, doubtful, loss). Paid-off loans are outside the book.", "阴影行为不良贷款（次级、可疑、损失）。已结清贷款不计入。"),
    ("roll_rates", "Roll rates", "迁徙率"),
    ("matrix_note", "Row shares: where the loans of each bucket at the earlier date are now. Thin rows (fewer than 30 loans) are greyed and marked *.", "行占比：上期各账龄段贷款的当前去向。样本不足30笔的行以灰色及*标注。"),
    ("from_to", "From \\ to", "从 \\ 到"),
    ("count_matrix", "by loans", "按笔数"),
    ("balance_matrix", "by balance", "按余额"),
    ("period_prev", "Since the previous snapshot", "较上期快照"),
    ("period_1m", "Over one month", "近一个月"),
    ("duration_matrix", "Duration-based one-month matrix (Aalen-Johansen)", "基于持续期的月度迁徙矩阵（Aalen-Johansen）"),
    ("duration_note", "The product of each night's row shares from the 1m date to today: it sees the moves inside the month that the cohort matrix above misses. Probabilities, not counts.", "自上月对比日至今每晚迁徙占比的连乘：能反映上方队列矩阵看不到的月内迁徙。单元格为概率而非笔数。"),
    ("nights", "nights chained", "个夜间区间"),
    ("gaps", "Not covered by any run (skipped)", "无运行覆盖（已跳过）"),
    ("overlaps", "Runs left out (their prev period overlaps)", "未纳入的运行（上期区间重叠）"),
    ("rates", "Roll-forward, cure and entry rates", "向前迁徙率、催回率与入催率"),
    ("state", "From", "起始账龄段"),
    ("roll_forward", "Roll-forward", "向前迁徙率"),
    ("cure", "Cure", "催回率"),
    ("entry", "Entry", "入催率"),
    ("interval", "95% interval", "95%置信区间"),
    ("rates_note", "Count basis, with the 95% Wilson interval. Thin rates (fewer than 30 loans) are marked *.", "笔数口径，附95% Wilson置信区间。样本不足30笔的比率以*标注。"),
    ("thin", "thin", "样本不足"),
    ("trends", "Trends", "趋势"),
    ("trend_daily", "Delinquency ratios (balance), last 30 run dates", "逾期率（余额口径），最近30个运行日"),
    ("trend_entry", "Entry and cure rates (daily, count), last 30 run dates", "入催率与催回率（日，笔数口径），最近30个运行日"),
    ("trend_monthly", "One-month roll-forward rates (count), last 13 month-ends", "月度向前迁徙率（笔数口径），最近13个月末"),
    ("history_short", "History is short", "历史数据不足"),
    ("history_days", "run dates found", "个运行日"),
    ("history_months", "month-ends found", "个月末"),
    ("history_note", "Trends are read from this program's earlier outputs under the output folder.", "趋势取自本程序在输出目录中的历史输出。"),
    ("tiers", "Collection tiers", "分级催收"),
    ("tier", "Tier", "催收等级"),
    ("reason", "Reason", "原因"),
    ("tier_transitions", "Tier transitions (by loans)", "催收等级迁徙（按笔数）"),
    ("tier_note", "Each loan gets the tier of the first policy rule it matches; the reason is that rule's code.", "每笔贷款取其首个匹配的策略规则所定的催收等级，原因即该规则代码。"),
    ("tiers_from_worklist", "Tiers on {} as that night's run published them in its worklist (exact).", "{} 的等级取自当日运行发布的催收名单（精确）。"),
    ("tiers_from_snapshot", "Tiers on {} computed from that date's snapshot alone ({why}): the signals that look further back (dpd_rising, re_default_risk) and the contact-based conditions (refusals, promises) are not evaluated there.", "{} 的等级仅由该日快照计算（{why}）：需要更早数据的信号（dpd_rising、re_default_risk）及基于催收记录的条件（拒绝还款、承诺还款）在该日不予评估。"),
    ("no_earlier_run", "no run of that date under this output", "本输出目录下无该日的运行结果"),
    ("early_warning", "Early warning", "逾期预警"),
    ("watch_list", "Watch list (T0_watch)", "观察名单（T0_watch）"),
    ("flagged", "Loans flagged (any signal)", "触发预警的贷款"),
    ("signal", "Signal", "预警信号"),
    ("flagged_by_product", "Flagged by product", "按产品"),
    ("flagged_by_region", "Flagged by region (largest 15)", "按地区（前15）"),
    ("second_lien", "Secured book: CLTV band and recovery route (二抵贷)", "抵押贷款：综合抵押率区间与回收路径（二抵贷）"),
    ("cltv_band", "CLTV band", "综合抵押率区间"),
    ("route", "Route", "回收路径"),
    ("no_route", "none (current)", "无（未逾期）"),
    ("senior_lien", "Senior liens", "优先顺位抵押余额"),
    ("collateral_value", "Collateral value", "抵押物价值"),
    ("expected_shortfall", "Expected shortfall", "预期损失缺口"),
    ("exposure", "Left to recover", "待回收敞口"),
    ("exposure_note", "Routes weigh the equity cushion (collateral after the haircut, less senior liens) against what is left to recover: the principal of an active loan; for a charged-off loan, the charged-off amount less recoveries to date, as its principal was written down at charge-off.", "回收路径以权益缓冲（抵押物价值扣除折扣后减去优先顺位抵押余额）对比待回收敞口：正常贷款为本金余额；已核销贷款本金已于核销时冲销，为核销金额减去累计回收金额。"),
    ("collections", "Collections and cures", "回款与催回"),
    ("collections_note", "Cash is today's paid_amount; cures are loans delinquent at the prev date that are M0 or paid off today, with their balance at that date.", "回款为当日 paid_amount；催回指上期逾期、当日为 M0 或已结清的贷款，余额取上期余额。"),
    ("from_prev_bucket", "By bucket at prev", "按上期账龄段"),
    ("by_tier_today", "By tier today", "按当日催收等级"),
    ("paying_loans", "Paying loans", "还款笔数"),
    ("cash", "Cash collected", "回款金额"),
    ("cash_share", "Share of cash", "回款占比"),
    ("cured_loans", "Cured loans", "催回笔数"),
    ("cured_balance", "Cured balance (at prev)", "催回余额（上期）"),
    ("recovery", "Charge-off recovery by cohort", "核销后回收（按核销月份）"),
    ("charge_off_month", "Charge-off month", "核销月份"),
    ("charge_off_amount", "Charged off", "核销金额"),
    ("recovered_to_date", "Recovered to date", "累计回收"),
    ("recovered_today", "Recovered since prev", "较上期回收"),
    ("recovery_rate", "Recovery rate", "回收率"),
    ("earlier_cohorts", "Earlier cohorts", "更早核销月份"),
    ("recovery_curve", "Recovery rate by months since charge-off (latest 6 cohorts, month-end runs)", "核销后月数与回收率（最近6个核销月份，月末运行）"),
    ("vintage", "Vintage analysis", "账龄分析 (Vintage)"),
    ("vintage30_curve", "DPD30+ balance / original principal by months on book (latest 6 vintages)", "逾期30天以上余额 / 原始本金，按账龄月 (MOB)（最近6个放款月份）"),
    ("vintage90_curve", "DPD90+ balance / original principal by months on book (latest 6 vintages)", "逾期90天以上余额 / 原始本金，按账龄月 (MOB)（最近6个放款月份）"),
    ("vintage_note", "Points come from this run and the last run of each earlier month found under the output folder; MOB 0 is the month of origination.", "数据点取自本次运行及输出目录中各历史月份的最后一次运行；MOB 0 为放款当月。"),
    ("plans", "Repayment plans", "还款方案协商"),
    ("plan_status", "Plan status", "方案状态"),
    ("plan_cohort", "Loans in an active plan at the 1m date", "上月对比日处于执行中方案的贷款"),
    ("plan_cure", "Plan cure (M0 or paid off now)", "方案催回率（当前为 M0 或结清）"),
    ("plan_broken", "Broken-plan rate (broken now)", "方案违约率（当前为违约）"),
    ("legal", "Legal pipeline", "法律诉讼进度"),
    ("legal_stage", "Legal stage", "诉讼阶段"),
    ("credit_repair", "Credit repair", "信用修复"),
    ("credit_repair_note", "Loans delinquent at the prev or 1m date that are now M0 or paid off with nothing past due: eligible for credit-record repair (table credit_repair).", "上期或上月逾期、当前为 M0 或已结清且无逾期金额的贷款，可申请信用修复（数据表 credit_repair）。"),
    ("contacts", "Contacts and channels", "催收记录与渠道"),
    ("contacts_today", "Contacts logged today", "当日催收记录"),
    ("orphans", "Orphans (loan not in today's snapshot)", "孤立记录（贷款不在当日快照）"),
    ("channel", "Channel", "渠道"),
    ("contacts_n", "Contacts", "记录数"),
    ("attempts", "Attempts", "尝试次数"),
    ("loans_contacted", "Loans contacted", "触达贷款"),
    ("loans_reached", "Loans reached (RPC)", "本人接通贷款"),
    ("rpc_rate", "RPC rate (95% interval, k/n)", "本人接通率（95%区间，k/n）"),
    ("ptp", "PTPs", "承诺还款"),
    ("ptp_rate", "PTP rate of RPCs", "承诺率（占本人接通）"),
    ("ptp_amount", "Promised", "承诺金额"),
    ("channels_note", "SMS and app pushes are sent, not attempted: they have no RPC rate. Loans contacted and reached are distinct per channel and are not summed.", "短信与 App 推送计为发送而非尝试，无接通率。触达与接通贷款按渠道去重，不做合计。"),
    ("promises", "Promise keeping", "承诺兑现"),
    ("due_date", "Due date", "承诺日期"),
    ("due", "Due", "到期"),
    ("kept", "Kept", "已兑现"),
    ("broken", "Broken", "未兑现"),
    ("open", "Open (due later)", "未到期"),
    ("kept_amount", "Kept amount", "兑现金额"),
    ("kept_rate", "PTP kept rate", "承诺兑现率"),
    ("promises_note", "A promise is kept when paid_amount over the snapshots after the contact, up to its date, reaches 95% of the promised amount. Promises due after today are open, not broken.", "自承诺记录次日起至承诺日各快照的 paid_amount 合计达到承诺金额的95%即为兑现。承诺日在今日之后的为未到期，不计为未兑现。"),
    ("compliance", "Compliance exceptions", "合法合规例外"),
    ("profile", "Profile", "合规标准"),
    ("exceptions", "Exceptions", "例外数"),
    ("rule", "Rule", "规则"),
    ("agent", "Agent", "坐席"),
    ("by_rule", "By rule", "按规则"),
    ("by_agent", "By agent (top 10)", "按坐席（前10）"),
    ("contact", "Contact", "记录"),
    ("loan", "Loan", "贷款"),
    ("time_local", "Borrower-local time", "借款人当地时间"),
    ("detail", "Detail", "说明"),
    ("first_exceptions", "First exceptions (all in table compliance)", "前若干条例外（完整列表见数据表 compliance）"),
    ("more_exceptions", "more in table compliance", "条见数据表 compliance"),
    ("no_exceptions", "No exceptions.", "无例外。"),
    ("quality", "Data quality and reconciliation", "数据质量与勾稽校验"),
    ("checks", "Reconciliation checks", "勾稽校验"),
    ("check", "Check", "校验项"),
    ("expected", "Expected", "应为"),
    ("actual", "Actual", "实际"),
    ("result", "Result", "结果"),
    ("passed", "passed", "通过"),
    ("failed", "FAILED", "未通过"),
    ("inputs", "Input files", "输入文件"),
    ("role", "Role", "用途"),
    ("date", "Date", "日期"),
    ("file", "File", "文件"),
    ("rows", "Rows", "行数"),
    ("tolerated", "Tolerated and counted", "容忍并计数的情况"),
    ("item", "Item", "项目"),
    ("count", "Count", "数量"),
    ("history_problems", "Earlier outputs skipped", "跳过的历史输出"),
    ("run", "Run", "运行信息"),
    ("program", "Program", "程序"),
    ("schema_version", "Table schema version", "数据表结构版本"),
    ("input_root", "Input", "输入目录"),
    ("policy", "Policy", "策略"),
    (
        "run_facts",
        "The thread count and the time of each step are in this run's manifest.json: the report holds only what the inputs and the policy determine, so a rerun gives the same file.",
        "本次运行的线程数与各步骤耗时见 manifest.json：报告只包含由输入数据与策略决定的内容，重跑得到相同的文件。",
    ),
    ("footer", "All amounts in the book's currency; figures match the Parquet tables of this run date.", "金额单位为账簿币种；所有数字与本业务日期的 Parquet 数据表一致。"),
];

impl Locale {
    /// All labels as the template variable `t`.
    pub fn labels(self) -> BTreeMap<&'static str, &'static str> {
        LABELS
            .iter()
            .map(|&(k, en, zh)| (k, if self == Locale::En { en } else { zh }))
            .collect()
    }

    /// One label; panics on an unknown key (a programming error the tests catch).
    pub fn t(self, key: &str) -> &'static str {
        LABELS
            .iter()
            .find(|l| l.0 == key)
            .map(|&(_, en, zh)| if self == Locale::En { en } else { zh })
            .unwrap_or_else(|| panic!("no label '{key}'"))
    }

    /// "not available: the book has no X column" (or "X is null for every
    /// loan") when the run date's book has no values of `column`.
    pub fn missing(self, cols: &OptionalColumns, column: &str) -> Option<String> {
        let why = if cols.absent.contains(&column) {
            self.t("no_column")
        } else if cols.all_null.contains(&column) {
            self.t("null_column")
        } else {
            return None;
        };
        Some(format!(
            "{}: {}",
            self.t("not_available"),
            why.replace("{}", column)
        ))
    }

    /// `29 Nov 2026` / `2026年11月29日`.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Locale::En => d.format("%-d %b %Y").to_string(),
            Locale::ZhCn => d.format("%Y年%-m月%-d日").to_string(),
        }
    }

    /// Short axis date: `29 Nov` / `11月29日`.
    pub fn short_date(self, d: NaiveDate) -> String {
        match self {
            Locale::En => d.format("%-d %b").to_string(),
            Locale::ZhCn => d.format("%-m月%-d日").to_string(),
        }
    }

    /// Month of a month-end point: `Nov 2026` / `2026年11月`.
    pub fn month(self, d: NaiveDate) -> String {
        match self {
            Locale::En => d.format("%b %Y").to_string(),
            Locale::ZhCn => d.format("%Y年%-m月").to_string(),
        }
    }

    /// An amount in currency units, short: `1.93M`, `12.4K` / `193.1万`,
    /// `1.20亿` (the forecast's expected values, which are not booked
    /// amounts and read better rounded).
    pub fn compact(self, v: f64) -> String {
        let a = v.abs();
        match self {
            Locale::En if a >= 1e9 => format!("{:.2}B", v / 1e9),
            Locale::En if a >= 1e6 => format!("{:.2}M", v / 1e6),
            Locale::En if a >= 1e3 => format!("{:.1}K", v / 1e3),
            Locale::ZhCn if a >= 1e8 => format!("{:.2}亿", v / 1e8),
            Locale::ZhCn if a >= 1e4 => format!("{:.1}万", v / 1e4),
            _ => format!("{v:.0}"),
        }
    }

    /// Unit of a change in a share.
    pub fn pp(self) -> &'static str {
        match self {
            Locale::En => " pp",
            Locale::ZhCn => "个百分点",
        }
    }

    pub fn bucket(self, b: Bucket) -> &'static str {
        match (self, b) {
            (Locale::ZhCn, Bucket::Wo) => "核销",
            (Locale::ZhCn, Bucket::Paid) => "结清",
            _ => b.label(),
        }
    }

    pub fn class(self, c: Class) -> &'static str {
        match (self, c) {
            (Locale::En, Class::Normal) => "Normal",
            (Locale::En, Class::SpecialMention) => "Special mention",
            (Locale::En, Class::Substandard) => "Substandard",
            (Locale::En, Class::Doubtful) => "Doubtful",
            (Locale::En, Class::Loss) => "Loss",
            (Locale::ZhCn, Class::Normal) => "正常",
            (Locale::ZhCn, Class::SpecialMention) => "关注",
            (Locale::ZhCn, Class::Substandard) => "次级",
            (Locale::ZhCn, Class::Doubtful) => "可疑",
            (Locale::ZhCn, Class::Loss) => "损失",
        }
    }

    /// Label of a matrix row or column code (`NEW`, `EXIT` included).
    pub fn state(self, code: &str) -> String {
        match (self, code) {
            (Locale::ZhCn, "NEW") => "新增".into(),
            (Locale::ZhCn, "EXIT") => "退出".into(),
            (Locale::ZhCn, "WO") => "核销".into(),
            (Locale::ZhCn, "PAID") => "结清".into(),
            _ => code.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_both_languages_and_keys_are_unique() {
        let mut keys = std::collections::BTreeSet::new();
        for (k, en, zh) in LABELS {
            assert!(keys.insert(k), "duplicate key {k}");
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
        }
        assert_eq!(Locale::ZhCn.t("npl"), "不良贷款率");
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 9).unwrap();
        assert_eq!(Locale::En.date(d), "9 Nov 2026");
        assert_eq!(Locale::ZhCn.date(d), "2026年11月9日");
        assert_eq!(Locale::ZhCn.month(d), "2026年11月");
    }
}
