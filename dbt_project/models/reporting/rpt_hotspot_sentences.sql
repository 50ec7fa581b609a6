-- The hot-cell section's plain-words sentences. 'backtest': what the published cells caught in
-- the force's own rolling-origin back-test (marts.hotspot_method_backtest), with what a plain
-- count of last quarter caught on the same area beside it. Always one row: with no back-test
-- the sentence says so.
with

backtest as (
    select * from {{ source('spatial', 'hotspot_method_backtest') }}
),

chosen as (
    select * from backtest
    where is_chosen
    order by method
    limit 1
),

naive as (
    select * from backtest
    where method = 'naive'
    order by quarter
    limit 1
),

-- How each method is described in print; a method not named here prints as its own name.
method_labels as (
    select
        labels.method,
        labels.method_label
    from (
        values
        ('naive', 'last quarter''s count'),
        ('count', 'the count over the training quarters'),
        ('gistar_z', 'the Gi* z-score'),
        ('ensemble', 'an ensemble of recency-weighted count, smoothed count and density'),
        ('rank_mix', 'the mean rank of last quarter''s count and the long-run count'),
        ('lexicographic', 'last quarter''s count, ties broken by the long-run count'),
        ('shrunk', 'each cell''s long-run rate shrunk toward its neighbours'' (empirical Bayes)'),
        ('poisson_glm', 'a Poisson regression on past counts (learned ranker)')
    ) as labels (method, method_label)
),

chosen_labelled as (
    select
        chosen.*,
        case
            when starts_with(chosen.method, 'smooth_')
                then
                    'the count plus ' || substr(chosen.method, length('smooth_') + 1)
                    || ' x the neighbours'' mean count'
            when starts_with(chosen.method, 'ewm_')
                then
                    'the count weighted by recency (half-life '
                    || substr(chosen.method, length('ewm_') + 1) || ' quarters)'
            when starts_with(chosen.method, 'kde_')
                then
                    'kernel density (bandwidth ' || substr(chosen.method, length('kde_') + 1)
                    || ' m)'
            else coalesce(method_labels.method_label, chosen.method)
        end as method_label
    from chosen
    left join method_labels on chosen.method = method_labels.method
),

-- Shares and PAI printed as the profile has always printed them: whole percent for the hit
-- rate, one decimal for the area share and the PAI (ties to even on the stored value).
backtest_sentence as (
    select
        case
            when chosen_labelled.method = 'naive'
                then
                    'In a back-test on this force''s last ' || chosen_labelled.folds
                    || ' quarters no other method beat a plain count of last quarter, so the '
                    || 'cells shown are last quarter''s busiest: they caught '
                    || format('{:.0f}', naive.mean_hit_rate * 100) || '% of the next quarter''s '
                    || 'crimes on ' || format('{:.1f}', naive.area_share * 100)
                    || '% of the area analysed (PAI ' || format('{:.1f}', naive.mean_pai) || ').'
            else
                'In a back-test on this force''s last ' || chosen_labelled.folds
                || ' quarters, the cells chosen by ' || chosen_labelled.method_label || ' caught '
                || format('{:.0f}', chosen_labelled.mean_hit_rate * 100) || '% of the next '
                || 'quarter''s crimes on ' || format('{:.1f}', chosen_labelled.area_share * 100)
                || '% of the area analysed (PAI ' || format('{:.1f}', chosen_labelled.mean_pai)
                || '); a plain count of last quarter caught '
                || format('{:.0f}', naive.mean_hit_rate * 100) || '% (PAI '
                || format('{:.1f}', naive.mean_pai) || ').'
        end as sentence
    from chosen_labelled
    cross join naive
    where chosen_labelled.folds <> 0
)

select
    'backtest' as sentence_kind,
    1 as sentence_order,
    coalesce(
        (select backtest_sentence.sentence from backtest_sentence),
        'Too few quarters of history for a back-test: the cells shown are last quarter''s '
        || 'busiest (a plain count).'
    ) as sentence
