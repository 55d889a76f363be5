//! instant-xml glue for text-valued enums: implements `FromXml`/`ToXml` through `FromStr` and
//! `Display`, so an unknown value is a typed parse error naming the field.

/// Implements `FromXml` and `ToXml` for a `FromStr + Display` type used as attribute or text.
macro_rules! xml_scalar_via_str {
    ($($ty:ty),* $(,)?) => {
        $(
        impl<'xml> ::instant_xml::FromXml<'xml> for $ty {
            fn matches(id: ::instant_xml::Id<'_>, field: Option<::instant_xml::Id<'_>>) -> bool {
                field.is_some_and(|field| id == field)
            }

            fn deserialize<'cx>(
                into: &mut Self::Accumulator,
                field: &'static str,
                deserializer: &mut ::instant_xml::Deserializer<'cx, 'xml>,
            ) -> Result<(), ::instant_xml::Error> {
                ::instant_xml::from_xml_str(into, field, deserializer)
            }

            type Accumulator = Option<Self>;
            const KIND: ::instant_xml::Kind = ::instant_xml::Kind::Scalar;
        }

        impl ::instant_xml::ToXml for $ty {
            fn serialize<W: ::std::fmt::Write + ?Sized>(
                &self,
                field: Option<::instant_xml::Id<'_>>,
                serializer: &mut ::instant_xml::Serializer<'_, W>,
            ) -> Result<(), ::instant_xml::Error> {
                ::instant_xml::display_to_xml(self, field, serializer)
            }
        }
        )*
    };
}
pub(crate) use xml_scalar_via_str;
