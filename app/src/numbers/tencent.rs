//! `DescribePhoneNumberInfo` of the Tencent-compatible API: how Herald reads each number.

use serde_json::{json, Value};

use super::PhoneNumber;
use crate::error::ApiError;
use crate::tencent::api::phone_number_set;

pub fn describe(request: &Value) -> Result<Value, ApiError> {
    let numbers = phone_number_set(request)?;
    let set: Vec<Value> = numbers
        .iter()
        .map(|raw| match PhoneNumber::parse(raw) {
            Ok(phone) => json!({
                "Code": "Ok",
                "Message": "success",
                "NationCode": phone.country_code(),
                "SubscriberNumber": phone.subscriber_number(),
                "PhoneNumber": phone.as_str(),
                "IsoCode": phone.iso_code(),
                "IsoName": phone.iso_code(),
            }),
            Err(problem) => json!({
                "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                "Message": problem.to_string(),
                "NationCode": "",
                "SubscriberNumber": "",
                "PhoneNumber": raw,
                "IsoCode": "DEF",
                "IsoName": "",
            }),
        })
        .collect();
    Ok(json!({ "PhoneNumberInfoSet": set }))
}
