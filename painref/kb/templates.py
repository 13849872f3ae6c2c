"""Commented templates for a new entry in the user's own layer (painref new)."""

TEMPLATES = {
    "procedure": """
# --- new procedure: uncomment, fill in every field, then run `painref validate` ---
# - id: {id}
#   name: Standard clinical name
#   aliases: [abbreviation, lay name]
#   parent: null                  # or the id of the family's general entry
#   category: nerve-block         # see `painref list procedures`; data/SCHEMA.md lists them
#   purpose: therapeutic          # diagnostic | therapeutic | both
#   summary: One or two sentences in your own words.
#   mechanism:
#     agent: Medication or energy used
#     target: Target anatomy
#   imaging:
#     modalities: [fluoroscopy]   # fluoroscopy | ultrasound | ct | none
#     note: How imaging guides it.
#   anesthesia: Local anesthetic; sedation if any.
#   setting: Where it is done.
#   procedure_time: How long it takes.
#   onset: When relief starts.
#   relief:
#     text: How long relief typically lasts, with its source.
#     band: weeks-to-months       # hours | days | weeks-to-months | months-to-years | not-stated
#   recovery: What recovery looks like.
#   risks: [A risk]
#   bleeding_risk:
#     category: low               # low | intermediate | high | unclassified (ASRA 2018)
#     note: Which row of the guideline, listed or by analogy.
#   prerequisites: []             # ids of procedures that come first
#   next_steps: []                # ids of procedures that may follow
#   questions: [First question?, Second question?, Third question?]
#   sources:
#     - title: Title of the reference
#       publisher: Journal or organisation
#       year: 2024
#       url: https://example.org/reference
""",
    "condition": """
# --- new condition: uncomment, fill in every field, then run `painref validate` ---
# - id: {id}
#   name: Standard clinical name
#   aliases: [lay name]
#   region: low-back              # see data/SCHEMA.md for the list
#   summary: One or two sentences in your own words.
#   symptoms: [A symptom]
#   diagnosis: [An examination or imaging finding]   # optional
#   icd10:
#     - code: M54.50
#       description: Low back pain, unspecified   # the official ICD-10-CM description
#   conservative_care: [Physical therapy]
#   procedures:
#     - id: epidural-steroid-injection
#       role: therapeutic         # diagnostic | therapeutic
#   questions: [First question?, Second question?, Third question?]
#   sources:
#     - title: Title of the reference
#       publisher: Journal or organisation
#       year: 2024
#       url: https://example.org/reference
""",
}
