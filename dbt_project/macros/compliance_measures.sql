{#- The Victims' Code and super-complaint measures (name, printed description), in print order:
    int_compliance_due (per crime) and the compliance mart (per quarter) read the one list. -#}
{% macro compliance_measures() -%}
    {%- set targets = setting('compliance') -%}
    {{ return([
        ('needs_assessment_completed', 'Victims\' Code needs assessment recorded'),
        ('needs_assessment_within_target', 'Needs assessment within ' ~ targets['needs_assessment_target_days'] ~ ' days of report'),
        ('support_referral_made', 'Victim referred to a support service'),
        ('support_referral_within_target', 'Support referral within ' ~ targets['support_referral_target_days'] ~ ' days of report'),
        ('risk_assessment_recorded', 'Risk grade (screening tool or DASH) recorded'),
        ('spo_considered', 'Stalking protection order considered'),
        ('spo_not_pursued_rationale_recorded', 'Reason recorded where an SPO was considered and not applied for'),
        ('right_to_review_informed', 'Victim told of the right to review on a no-further-action outcome'),
    ]) }}
{%- endmacro %}

{#- The measures as a CTE body: one row per measure (measure, measure_description). -#}
{% macro compliance_measures_rows() -%}
    {%- for name, description in compliance_measures() %}
        select
            '{{ name }}' as measure,
            '{{ description | replace("'", "''") }}' as measure_description
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
