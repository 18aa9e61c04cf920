"""The partnership's language review list: phrases that blame a child for the harm done
to them, found in agencies' free text and fed back with a better wording (`review`)."""
