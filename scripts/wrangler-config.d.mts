export declare const COMPATIBILITY_DATE: string;
export declare const COMPATIBILITY_FLAGS: string[];
export declare const BUCKET_NAME: string;
