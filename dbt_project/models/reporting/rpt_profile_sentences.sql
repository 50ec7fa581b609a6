-- The profile's sentences that print figures: key findings, chart titles, the assurance
-- paragraph. One row per variant (sentence_kind, variant_order: fuller wording first) with the
-- figures its placeholders name, before disclosure control; the profile prints the first
-- variant whose figures publish (pipelines.disclosure.sentences; rules: the YAML's meta).
{% set months = 3 * (setting('tasking')['backtest_horizons_quarters'] | min) %}
{% set listed = setting('tasking')['backtest_list_lengths'] | max %}
with

worded as (
    select * from {{ ref('int_profile_sentence_figures') }}
),

compliance as (
    select * from {{ ref('rpt_compliance') }}
),

verdicts as (
    select * from {{ ref('rpt_dip_sample_verdicts') }}
),

-- Each sentence's wordings per quarter, variant 1 the fullest; phrases that differ with the
-- size of a change are chosen here.
quarter_templates as (
    select
        worded.quarter,
        'finding_crimes' as sentence_kind,
        variants.variant_order,
        '{crimes} crimes entered the stalking universe in {quarter}'
        || case
            when variants.with_year then ': the number ' || {{ year_phrase('worded', 'crimes') }}
            else ''
        end
        || '.'
        || case
            when variants.with_previous
                then ' Against the previous quarter it ' || {{ previous_phrase('worded', 'crimes') }} || '.'
            else ''
        end as template
    from worded
    cross join (
        values (1, true, true), (2, true, false), (3, false, true), (4, false, false)
    ) as variants (variant_order, with_year, with_previous)

    union all

    select
        worded.quarter,
        'finding_da_share' as sentence_kind,
        variants.variant_order,
        '{da_share} of stalking crimes were flagged as domestic abuse' || variants.ending as template
    from worded
    cross join (values (1, ' ({da_share_year_ago} a year earlier).'), (2, '.')) as variants (variant_order, ending)

    union all

    select
        worded.quarter,
        'finding_online' as sentence_kind,
        variants.variant_order,
        '{online_share} carried the online flag' || variants.ending as template
    from worded
    cross join (values (1, ', {online_change_words}.'), (2, '.')) as variants (variant_order, ending)

    union all

    -- Only a quarter with screened crimes has this sentence. A hidden count is said to be hidden,
    -- not small: it may be 5 or more, hidden beside a small route.
    select
        worded.quarter,
        'finding_screened' as sentence_kind,
        variants.variant_order,
        variants.template
    from worded
    cross join (
        values
        (
            1,
            '{screened_crimes} crimes recorded under other classifications were flagged by screening as '
            || 'possible hidden stalking: reviewing them is the quickest gain in identification.'
        ),
        (
            2,
            'Screening flagged crimes recorded under other classifications as possible hidden stalking '
            || 'this quarter; how many is not shown, to protect small counts.'
        )
    ) as variants (variant_order, template)
    where worded.screened_crimes > 0

    union all

    {{ with_year_phrase(
        'finding_repeat_victims', 'repeat_victims',
        '{repeat_victims} victims were repeat victims (2 or more stalking crimes in 12 months)'
    ) }}

    union all

    -- Serial and high-harm perpetrators as far as each publishes; those without an order only
    -- when there are some. Without the serial count the high-harm count names its own noun.
    select
        worded.quarter,
        'finding_perpetrators' as sentence_kind,
        variants.variant_order,
        case
            when variants.with_serial
                then
                    'The force dealt with '
                    || concat_ws(
                        ' and ',
                        '{serial_perpetrators} serial perpetrators (2 or more victims in 3 years)',
                        case
                            when variants.with_high_harm
                                then '{high_harm_perpetrators} met the high-harm threshold for tasking'
                        end
                    )
            else '{high_harm_perpetrators} perpetrators met the high-harm threshold for tasking'
        end
        || case
            when variants.with_no_order
                then '; {high_harm_without_order} of the high-harm perpetrators had no active protective order'
            else ''
        end
        || '.' as template
    from worded
    cross join (
        values
        (1, true, true, true), (2, true, true, false), (3, true, false, true),
        (4, true, false, false), (5, false, true, true), (6, false, true, false)
    ) as variants (variant_order, with_serial, with_high_harm, with_no_order)
    where not variants.with_no_order or worded.high_harm_without_order > 0

    union all

    select
        worded.quarter,
        'finding_hotspots' as sentence_kind,
        variants.variant_order,
        case
            when worded.hot_cells = 0
                then
                    'No grid cell was predicted as a hotspot this quarter: '
                    || if(
                        worded.located_crimes = 0,
                        'none of its stalking crimes has a usable location.',
                        'recorded stalking locations were dispersed across the force area.'
                    )
            else
                '{hot_cells} grid cells are the predicted hotspots for next quarter (method chosen by '
                || 'back-test)'
                || variants.ending
        end as template
    from worded
    cross join (
        -- the cells flagged at this quarter's end were chosen from its own crimes: only the
        -- cells flagged a quarter earlier say how well the prediction did
        values
        (
            1,
            '; the cells predicted a quarter earlier held {predicted_share} of this quarter''s '
            || 'located stalking crimes.'
        ),
        (2, '.')
    ) as variants (variant_order, ending)
    where worded.hot_cells > 0 or variants.variant_order = 1

    union all

    {{ with_year_phrase(
        'finding_spo', 'spo_in_force',
        '{spo_in_force} stalking protection orders were in force at the end of the quarter'
    ) }}

    union all

    -- Only a quarter with a ranking at least a year old has this sentence.
    select
        worded.quarter,
        'tasking_backtest' as sentence_kind,
        1 as variant_order,
        'Of the {backtest_listed} subjects ranked highest by the RFGV score in {backtest_ranking_of}, '
        || '{rfgv_reoffending?} had a further stalking-universe crime reported within {{ months }} months, '
        || 'against {count_reoffending?} of the {backtest_listed} with most crimes in the previous 12 months '
        || 'and {recency_reoffending?} of the {backtest_listed} who offended most recently. Over all '
        || '{backtest_rankings} rankings at least a year old, {rfgv_precision?} of the RFGV top {{ listed }} '
        || 're-offended within {{ months }} months on average (plain count {count_precision?}, most recent '
        || '{recency_precision?}); the chance that a re-offender was ranked above someone who did not (AUC) '
        || 'was {rfgv_auc} for RFGV, {count_auc} for the count and {recency_auc} for recency.'
        -- A method that loses to its baseline is not left to read as if it won: the sentence
        -- ends with which ranking picked out re-offenders best (AUC as printed, two decimals).
        || case
            when round(worded.rfgv_auc, 2) > greatest(round(worded.count_auc, 2), round(worded.recency_auc, 2))
                then ' The RFGV score picked out re-offenders better than either plain ranking.'
            when round(worded.rfgv_auc, 2) < greatest(round(worded.count_auc, 2), round(worded.recency_auc, 2))
                then
                    ' Ranking by '
                    || case
                        when round(worded.recency_auc, 2) >= round(worded.count_auc, 2)
                            then 'most recent offending'
                        else 'the count of crimes'
                    end
                    || ' alone picked out re-offenders better than the RFGV score, which weighs how '
                    || 'grave the offending is and how many victims it has as well as how recent and '
                    || 'frequent: read the tasking list as a priority by harm, not as a prediction of who '
                    || 'offends next.'
            when round(worded.rfgv_auc, 2) = greatest(round(worded.count_auc, 2), round(worded.recency_auc, 2))
                then ' The RFGV score picked out re-offenders no better than the best plain ranking.'
            else ''
        end as template
    from worded
    where worded.backtest_listed is not null
    union all

    select
        worded.quarter,
        'da_chart_title' as sentence_kind,
        1 as variant_order,
        case
            when abs(worded.crimes_change_year) < 0.05
                then 'Stalking crimes {crimes_direction_year_plural} on the same quarter last year'
            else
                'Stalking crimes {crimes_direction_year_plural} {crimes_change_year_size} '
                || 'on the same quarter last year'
        end as template
    from worded

    union all

    select
        worded.quarter,
        fixed.sentence_kind,
        fixed.variant_order,
        fixed.template
    from worded
    cross join (
        values
        ('da_chart_title', 2, 'Stalking crimes by domestic-abuse flag'),
        ('online_chart_title', 1, 'Online share: {online_share} this quarter ({online_share_year_ago} a year earlier)'),
        ('online_chart_title', 2, 'Online share: {online_share} this quarter'),
        ('online_chart_title', 3, 'Online share'),
        ('routes_chart_title', 1, '{screened_crimes?} crimes in {quarter} entered the profile only through screening'),
        (
            'demand_summary', 1,
            '{crimes?} crimes entered the stalking universe in {quarter}: {crimes_change_previous?} on the previous '
            || 'quarter and {crimes_change_year?} on the same quarter last year. {da_share?} were flagged as '
            || 'domestic abuse and {online_share?} as online.'
        ),
        (
            'victims_repeat_share', 1,
            'In {quarter}, {repeat_share?} of the quarter''s victims were repeat victims (at least one other '
            || 'stalking crime in the 12 months to the quarter''s end).'
        ),
        (
            'orders_spo_in_force', 1,
            '{spo_in_force?} stalking protection orders (full and interim) were in force at the end of {quarter} '
            || '({spo_in_force_change_year?} on a year earlier).'
        ),
        (
            'intelligence_linkage', 1,
            'Intelligence reports submitted in the quarter, whatever their subject: {linked_to_crime?} were '
            || 'linked to a crime, {linked_to_stalking_crime?} to a stalking-universe crime and '
            || '{linked_to_tasking_subject?} named a subject on the quarter''s high-harm tasking list.'
        ),
        ('intelligence_chart_title', 1, '{intelligence_reports?} intelligence reports submitted in {quarter}'),
        (
            'gap_unnamed_suspects', 1,
            'Unidentified suspects: {unnamed_suspect_records?} of suspect/offender records on this quarter''s '
            || 'stalking crimes carry no name (often online suspects), so they cannot be linked across crimes '
            || 'and repeat or serial offending is undercounted.'
        )
    ) as fixed (sentence_kind, variant_order, template)

    union all

    -- The stalking protection orders granted a year ago, where they have been followed up.
    select
        worded.quarter,
        'orders_spo_followup' as sentence_kind,
        1 as variant_order,
        'Of the stalking protection orders (full and interim) granted in {followup_quarter}, '
        || '{followup_breached?} were breached within {followup_months} months.' as template
    from worded
    where worded.followup_granted is not null
),

quarter_sentences as (
    select
        quarter_templates.sentence_kind,
        quarter_templates.variant_order,
        quarter_templates.template,
        worded.*
    from quarter_templates
    inner join worded
        on quarter_templates.quarter = worded.quarter
),

-- The weakest compliance measure: every measure of the quarter a variant, lowest rate first
-- (ties in measure order); a hidden or undefined rate passes to the next.
compliance_compared as (
    select
        compliance.quarter,
        compliance.measure,
        lower(compliance.measure_label) as measure_name,
        compliance.numerator as compliance_rate,
        compliance.denominator as compliance_denominator,
        coalesce(year_ago.numerator, 0) as compliance_rate_year_ago,
        coalesce(year_ago.denominator, 0) as compliance_denominator_year_ago,
        row_number() over (
            partition by compliance.quarter
            order by
                compliance.numerator / nullif(cast(compliance.denominator as double), 0) nulls last,
                compliance.measure
        ) as weakest_order
    from compliance
    inner join worded
        on compliance.quarter = worded.quarter
    left join compliance as year_ago
        on worded.year_ago_quarter = year_ago.quarter and compliance.measure = year_ago.measure
),

compliance_sentences as (
    select
        quarter,
        'finding_compliance' as sentence_kind,
        weakest_order as variant_order,
        'The weakest Victims'' Code or SPO measure was {measure_name} at {compliance_rate} (same quarter last '
        || 'year: {compliance_rate_year_ago?}).' as template,
        measure_name,
        compliance_rate,
        compliance_denominator,
        compliance_rate_year_ago,
        compliance_denominator_year_ago
    from compliance_compared

    union all

    select
        quarter,
        'compliance_chart_title' as sentence_kind,
        weakest_order as variant_order,
        'Lowest compliance: {measure_name} ({compliance_rate})' as template,
        measure_name,
        compliance_rate,
        compliance_denominator,
        compliance_rate_year_ago,
        compliance_denominator_year_ago
    from compliance_compared

    union all

    -- After every measure: the title when no rate publishes.
    select
        worded.quarter,
        'compliance_chart_title' as sentence_kind,
        count(compliance_compared.measure) + 1 as variant_order,
        'Victims'' Code and SPO compliance' as template,
        null as measure_name,
        null as compliance_rate,
        null as compliance_denominator,
        null as compliance_rate_year_ago,
        null as compliance_denominator_year_ago
    from worded
    left join compliance_compared
        on worded.quarter = compliance_compared.quarter
    group by worded.quarter
),

audited as (
    select
        coalesce(sum(audited), 0) as audited,
        coalesce(sum(audited) filter (where identified_by = 'principal'), 0) as principal_audited,
        coalesce(sum(audited) filter (where identified_by = 'included'), 0) as included_audited,
        coalesce(sum(audited) filter (where identified_by = 'screened'), 0) as screened_audited,
        coalesce(sum(judged_stalking) filter (where identified_by = 'screened'), 0) as screened_judged_stalking,
        (select st.profile_sentence from {{ ref('rpt_screening_threshold') }} as st) as threshold_sentence
    from verdicts
),

-- The assurance paragraph is the delivery's (quarter null): the samples returned so far (and
-- the threshold they set).
dip_sample_sentences as (
    select
        'dip_sample' as sentence_kind,
        1 as variant_order,
        'Each quarter a restricted assurance dip sample of these crimes (screened crimes '
        || 'over-sampled) goes to the auditors'
        || case
            when audited = 0 then '; no completed sample has been returned yet.'
            else
                '. Of the screened-in crimes audited so far, {screened_judged_stalking?} were '
                || 'judged to be stalking: the share the FMS workbook''s hidden-demand scenario '
                || 'asks for.'
        end
        || threshold_sentence as template,
        principal_audited,
        included_audited,
        screened_audited,
        screened_judged_stalking
    from audited
),

every_sentence as (
    select * from quarter_sentences
    union all by name
    select * from compliance_sentences
    union all by name
    select * from dip_sample_sentences
),

final as (
    select
        quarter,
        sentence_kind,
        cast(variant_order as integer) as variant_order,
        template,
        cast(crimes as bigint) as crimes,
        cast(crimes_previous as bigint) as crimes_previous,
        cast(crimes_year_ago as bigint) as crimes_year_ago,
        crimes_direction_previous,
        abs(crimes_change_previous) as crimes_change_previous_size,
        crimes_direction_year,
        crimes_direction_year_plural,
        abs(crimes_change_year) as crimes_change_year_size,
        crimes_change_previous,
        crimes_change_year,
        cast(da_crimes as bigint) as da_share,
        cast(not_da_crimes as bigint) as not_da_crimes,
        cast(da_crimes + not_da_crimes as bigint) as da_flag_total,
        cast(da_crimes_year_ago as bigint) as da_share_year_ago,
        cast(not_da_crimes_year_ago as bigint) as not_da_crimes_year_ago,
        cast(da_crimes_year_ago + not_da_crimes_year_ago as bigint) as da_flag_total_year_ago,
        cast(online_crimes as bigint) as online_share,
        cast(not_online_crimes as bigint) as not_online_crimes,
        cast(online_crimes + not_online_crimes as bigint) as online_flag_total,
        cast(online_crimes_year_ago as bigint) as online_share_year_ago,
        cast(not_online_crimes_year_ago as bigint) as not_online_crimes_year_ago,
        cast(online_crimes_year_ago + not_online_crimes_year_ago as bigint) as online_flag_total_year_ago,
        online_change_words,
        cast(principal_crimes as bigint) as principal_crimes,
        cast(included_crimes as bigint) as included_crimes,
        cast(screened_crimes as bigint) as screened_crimes,
        cast(repeat_victims as bigint) as repeat_victims,
        cast(repeat_victims_year_ago as bigint) as repeat_victims_year_ago,
        repeat_victims_direction_year,
        abs(repeat_victims_change_year) as repeat_victims_change_year_size,
        cast(perpetrators as bigint) as perpetrators,
        cast(serial_perpetrators as bigint) as serial_perpetrators,
        cast(high_harm_perpetrators as bigint) as high_harm_perpetrators,
        cast(high_harm_without_order as bigint) as high_harm_without_order,
        cast(hot_cells as bigint) as hot_cells,
        cast(located_crimes as bigint) as located_crimes,
        cast(crimes_in_predicted_cells as bigint) as predicted_share,
        cast(located_crimes_predicted as bigint) as located_crimes_predicted,
        cast(spo_in_force as bigint) as spo_in_force,
        cast(spo_in_force_year_ago as bigint) as spo_in_force_year_ago,
        spo_in_force_direction_year,
        abs(spo_in_force_change_year) as spo_in_force_change_year_size,
        spo_in_force_change_year,
        year_ago_quarter as followup_quarter,
        cast(followup_months as bigint) as followup_months,
        cast(followup_granted as bigint) as followup_granted,
        cast(followup_breached as bigint) as followup_breached,
        cast(victims as bigint) as victims,
        cast(repeat_share as bigint) as repeat_share,
        intelligence_reports,
        linked_to_crime,
        linked_to_stalking_crime,
        linked_to_tasking_subject,
        suspect_records,
        unnamed_suspect_records,
        backtest_ranking_of,
        cast(backtest_listed as bigint) as backtest_listed,
        cast(rfgv_reoffending as bigint) as rfgv_reoffending,
        cast(count_reoffending as bigint) as count_reoffending,
        cast(recency_reoffending as bigint) as recency_reoffending,
        cast(backtest_rankings as bigint) as backtest_rankings,
        cast(rfgv_listed_all as bigint) as rfgv_listed_all,
        cast(rfgv_reoffending_all as bigint) as rfgv_reoffending_all,
        cast(count_listed_all as bigint) as count_listed_all,
        cast(count_reoffending_all as bigint) as count_reoffending_all,
        cast(recency_listed_all as bigint) as recency_listed_all,
        cast(recency_reoffending_all as bigint) as recency_reoffending_all,
        rfgv_precision,
        count_precision,
        recency_precision,
        rfgv_auc,
        count_auc,
        recency_auc,
        cast(measure_name as varchar) as measure_name,
        cast(compliance_rate as bigint) as compliance_rate,
        cast(compliance_denominator as bigint) as compliance_denominator,
        cast(compliance_rate_year_ago as bigint) as compliance_rate_year_ago,
        cast(compliance_denominator_year_ago as bigint) as compliance_denominator_year_ago,
        cast(principal_audited as bigint) as principal_audited,
        cast(included_audited as bigint) as included_audited,
        cast(screened_audited as bigint) as screened_audited,
        cast(screened_judged_stalking as bigint) as screened_judged_stalking
    from every_sentence
)

select * from final
