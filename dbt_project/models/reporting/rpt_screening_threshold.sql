{%- set screening = setting('screening') -%}
-- The threshold screening ran with and why (marts.screening_threshold, written by the assurance
-- asset from the returned screening review samples: int_screening_threshold reads the same
-- row), for the profile's assurance paragraph and the restricted review sample's note; the
-- configured threshold when the table is empty (a run without the asset). One row.
with

decision as (
    select * from {{ source('screening_calibration', 'screening_threshold') }}
),

final as (
    select
        cast(coalesce(max(threshold), {{ screening['threshold'] }}) as integer) as threshold,
        cast({{ screening['threshold'] }} as integer) as configured_threshold,
        coalesce(max(threshold_source), 'configured') as threshold_source,
        coalesce(
            max(reason), 'Screening ran at the configured threshold {{ screening["threshold"] }}.'
        ) as reason,
        cast(coalesce(max(reviewed), 0) as bigint) as reviewed,
        max(review_quarters) as review_quarters,
        max(estimated_precision) as estimated_precision,
        max(precision_lower_bound) as precision_lower_bound,
        -- the profile's assurance paragraph says it where the auditors' review samples (or an
        -- analyst) set the threshold, or where their reviews measured the configured one; a
        -- configured threshold nobody reviewed is the settings' and needs no word
        case
            when
                coalesce(max(threshold_source), 'configured') <> 'configured'
                or max(estimated_precision) is not null
                then ' ' || max(reason)
            else ''
        end as profile_sentence
    from decision
)

select * from final
