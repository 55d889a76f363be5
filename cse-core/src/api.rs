//! The CSE REST contract seen through vCD: `/api/cse/...` routes, request bodies,
//! response documents and the validation rules with their error texts.
