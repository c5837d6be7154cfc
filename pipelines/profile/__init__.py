"""The 360° profile: golden record, identifiers, companies, activity, consent, history.

One module per concern; ``build.build_profile_tables`` assembles them for ``publish_stage``,
``lookup`` reads a customer card back from the warehouse and ``export`` writes the tables out.
"""
